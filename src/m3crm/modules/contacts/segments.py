"""Segments: saved filters over contacts or companies, whose members are live queries.

A definition is checked (`filters.parse`, 422 with the path of the bad node) when it is
saved and again each time it runs, against the custom fields that exist *then*: a
segment naming a deleted custom field answers 422 instead of silently matching nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.filters import parse
from m3crm.modules.contacts.models import Segment, SegmentEntity
from m3crm.modules.contacts.repository import ContactRepository
from m3crm.modules.contacts.repository_segments import SegmentCompiler, SegmentRepository
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields

CUSTOM_ENTITY = {
    SegmentEntity.CONTACT: EntityType.CONTACT,
    SegmentEntity.COMPANY: EntityType.COMPANY,
}


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "entity_type": segment.entity_type.value,
        "definition": segment.definition,
    }


class SegmentService:
    async def condition(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        entity: SegmentEntity,
        definition: Any,
    ) -> ColumnElement[bool]:
        """The WHERE clause of `definition` (422 when it does not check out)."""
        defs = await custom_fields.list_defs(session, subject.tenant_id, CUSTOM_ENTITY[entity])
        tree = parse(entity, definition, defs)
        contacts = ContactRepository(session, subject.tenant_id)
        return SegmentCompiler(subject.tenant_id, entity, contacts).compile(tree)

    async def list(
        self, session: AsyncSession, subject: AuthSubject, entity: SegmentEntity | None
    ) -> list[Segment]:
        return await SegmentRepository(session, subject.tenant_id).list(entity)

    async def get(self, session: AsyncSession, subject: AuthSubject, segment_id: UUID) -> Segment:
        return await SegmentRepository(session, subject.tenant_id).get_or_404(segment_id)

    async def find(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        segment_id: UUID,
        entity: SegmentEntity,
        *,
        field: str = "segment",
    ) -> Segment:
        """A segment named by a filter: 422 on `field` unless it is one of the
        tenant's segments of `entity`."""
        found = await SegmentRepository(session, subject.tenant_id).get(segment_id)
        if found is None or found.entity_type is not entity:
            raise ValidationFailed({field: N_("Choose one of your saved segments.")})
        return found

    async def create(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        *,
        name: str,
        entity: SegmentEntity,
        definition: dict[str, Any],
    ) -> Segment:
        await self.condition(session, subject, entity, definition)
        repo = SegmentRepository(session, subject.tenant_id)
        if await repo.by_name(entity, name) is not None:
            raise Conflict(
                N_("A segment with this name already exists."), details={"field": "name"}
            )
        segment = repo.add(
            Segment(
                name=name,
                entity_type=entity,
                definition=definition,
                created_by_user_id=subject.user_id,
            )
        )
        await session.flush()
        await record(
            session, subject, "segment.created", EntityRef("segment", segment.id), None,
            _snapshot(segment),
        )  # fmt: skip
        return segment

    async def update(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        segment_id: UUID,
        *,
        name: str | None,
        definition: dict[str, Any] | None,
    ) -> Segment:
        repo = SegmentRepository(session, subject.tenant_id)
        segment = await repo.get_or_404(segment_id)
        before = _snapshot(segment)
        if definition is not None:
            await self.condition(session, subject, segment.entity_type, definition)
            segment.definition = definition
        if name is not None and name != segment.name:
            if await repo.by_name(segment.entity_type, name) is not None:
                raise Conflict(
                    N_("A segment with this name already exists."), details={"field": "name"}
                )
            segment.name = name
        await session.flush()
        after = _snapshot(segment)
        if after != before:
            await record(
                session, subject, "segment.updated", EntityRef("segment", segment.id), before,
                after,
            )  # fmt: skip
        return segment

    async def delete(self, session: AsyncSession, subject: AuthSubject, segment_id: UUID) -> None:
        repo = SegmentRepository(session, subject.tenant_id)
        segment = await repo.get_or_404(segment_id)
        before = _snapshot(segment)
        await session.delete(segment)
        await session.flush()
        await record(session, subject, "segment.deleted", EntityRef("segment", segment_id), before)


segment = SegmentService()
