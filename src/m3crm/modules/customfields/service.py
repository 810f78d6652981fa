"""Custom field definitions and values, for any record type (`EntityType`).

Rules:
- defining fields needs the plan feature of the record type (402) and stays within the
  plan's per-type count (422 `LIMIT_REACHED`); `code` and `type` never change;
- a value is checked against its definition's type (422 on `custom_fields.<code>`);
  a required field cannot be left empty; a unique field refuses a value another record
  of the same type holds (409 `CONFLICT` naming the holder) — the database's partial
  unique index is the backstop for races;
- the owning module calls `check` before it writes its record and `write` after, in the
  same transaction, so a refused value leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import load_entitlements
from m3crm.kernel.errors import Conflict, LimitReached, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.modules.customfields.models import CustomFieldDef, EntityType, FieldType
from m3crm.modules.customfields.repository import FieldDefRepository, FieldValueRepository
from m3crm.modules.customfields.values import UNIQUE_CAPABLE, BadValue, CleanValue, clean, is_empty

FEATURES: Mapping[EntityType, str | None] = {
    EntityType.CONTACT: "contacts.customFields",
    EntityType.COMPANY: "contacts.customFields",
    EntityType.DEAL: "deals.customFields",
    EntityType.UNIT: "units.customFields",
    EntityType.LEAD: None,
}
LIMITS: Mapping[EntityType, str] = {
    EntityType.CONTACT: "contacts.customFields.max",
    EntityType.COMPANY: "companies.customFields.max",
    EntityType.DEAL: "deals.customFields.max",
    EntityType.UNIT: "units.customFields.max",
    EntityType.LEAD: "leads.customFields.max",
}
OPTION_TYPES = frozenset({FieldType.SELECT, FieldType.MULTISELECT})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A new definition (validated shapes; rules across fields are checked here)."""

    code: str
    label: str
    type: FieldType
    options: list[str]
    required: bool = False
    is_unique: bool = False
    position: int = 0


@dataclass(frozen=True, slots=True)
class FieldChanges:
    """A PATCH: `None` leaves the attribute as it is."""

    label: str | None = None
    options: list[str] | None = None
    required: bool | None = None
    is_unique: bool | None = None
    active: bool | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class CheckedValues:
    """Values ready to write: `set` by definition, `cleared` definitions to empty."""

    set: list[tuple[CustomFieldDef, CleanValue]]
    cleared: list[CustomFieldDef]


def _snapshot(defn: CustomFieldDef) -> dict[str, Any]:
    return {
        "entity_type": defn.entity_type.value,
        "code": defn.code,
        "label": defn.label,
        "type": defn.type.value,
        "options": list(defn.options),
        "required": defn.required,
        "is_unique": defn.is_unique,
        "active": defn.active,
        "position": defn.position,
    }


def _check_shape(type: FieldType, options: list[str], is_unique: bool) -> None:
    if type in OPTION_TYPES and not options:
        raise ValidationFailed({"options": N_("List at least one option.")})
    if type not in OPTION_TYPES and options:
        raise ValidationFailed({"options": N_("Only select fields have options.")})
    if len(set(options)) != len(options):
        raise ValidationFailed({"options": N_("Options must be different from each other.")})
    if is_unique and type not in UNIQUE_CAPABLE:
        raise ValidationFailed({"is_unique": N_("This type of field cannot be unique.")})


class CustomFieldService:
    async def list_defs(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        entity_type: EntityType,
        *,
        active_only: bool = False,
    ) -> list[CustomFieldDef]:
        return await FieldDefRepository(session, tenant_id).list(
            entity_type, active_only=active_only
        )

    async def get_def(
        self, session: AsyncSession, subject: AuthSubject, field_id: UUID
    ) -> CustomFieldDef:
        return await FieldDefRepository(session, subject.tenant_id).get_or_404(field_id)

    async def create_def(
        self, session: AsyncSession, subject: AuthSubject, entity_type: EntityType, spec: FieldSpec
    ) -> CustomFieldDef:
        """402 without the feature, 422 over the count or for an inconsistent shape,
        409 when the code is taken for this record type."""
        entitlements = await load_entitlements(session, subject.tenant_id)
        if (feature := FEATURES[entity_type]) is not None:
            entitlements.require_feature(feature)
        repo = FieldDefRepository(session, subject.tenant_id)
        limit_key = LIMITS[entity_type]
        limit = entitlements.limits.get(limit_key, 0)
        if await repo.count(entity_type) + 1 > limit:
            raise LimitReached(limit_key, limit)
        _check_shape(spec.type, spec.options, spec.is_unique)
        if await repo.by_code(entity_type, spec.code) is not None:
            raise Conflict(N_("A field with this code already exists."), details={"field": "code"})
        defn = repo.add(
            CustomFieldDef(
                entity_type=entity_type,
                code=spec.code,
                label=spec.label,
                type=spec.type,
                options=spec.options,
                required=spec.required,
                is_unique=spec.is_unique,
                active=True,
                position=spec.position,
            )
        )
        await session.flush()
        await record(
            session,
            subject,
            "customfield.created",
            EntityRef("custom_field", defn.id),
            None,
            _snapshot(defn),
        )
        return defn

    async def update_def(
        self, session: AsyncSession, subject: AuthSubject, field_id: UUID, changes: FieldChanges
    ) -> CustomFieldDef:
        """Making a field unique while two records share a value is 409; removing an
        option that records still hold is allowed (their values stay until edited)."""
        repo = FieldDefRepository(session, subject.tenant_id)
        defn = await repo.get_or_404(field_id)
        before = _snapshot(defn)
        options = changes.options if changes.options is not None else defn.options
        is_unique = changes.is_unique if changes.is_unique is not None else defn.is_unique
        _check_shape(defn.type, options, is_unique)
        values = FieldValueRepository(session, subject.tenant_id)
        if is_unique != defn.is_unique:
            if is_unique and await values.has_duplicate_texts(defn.id):
                raise Conflict(
                    N_("Some records share a value of this field; it cannot be unique."),
                    details={"field": "is_unique"},
                )
            await values.set_unique_keys(defn.id, unique=is_unique)
        for name in ("label", "required", "active", "position"):
            if (value := getattr(changes, name)) is not None:
                setattr(defn, name, value)
        defn.options = options
        defn.is_unique = is_unique
        await session.flush()
        after = _snapshot(defn)
        if after != before:
            await record(
                session,
                subject,
                "customfield.updated",
                EntityRef("custom_field", defn.id),
                before,
                after,
            )
        return defn

    async def delete_def(self, session: AsyncSession, subject: AuthSubject, field_id: UUID) -> None:
        """Deletes the definition and, by cascade, every value of it."""
        repo = FieldDefRepository(session, subject.tenant_id)
        defn = await repo.get_or_404(field_id)
        before = _snapshot(defn)
        await session.delete(defn)
        await session.flush()
        await record(
            session, subject, "customfield.deleted", EntityRef("custom_field", field_id), before
        )

    async def check(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        entity_type: EntityType,
        raw: Mapping[str, Any],
        *,
        entity_id: UUID | None,
        creating: bool,
    ) -> CheckedValues:
        """Validate `raw` (code → value) for a record (`entity_id` None while creating).

        On create every active required field must be given; on update only the codes
        given are checked. Unknown or inactive codes are 422.
        """
        defs = {d.code: d for d in await self.list_defs(session, tenant_id, entity_type)}
        if raw:
            feature = FEATURES[entity_type]
            if feature is not None:
                (await load_entitlements(session, tenant_id)).require_feature(feature)
        errors: dict[str, str] = {}
        checked = CheckedValues(set=[], cleared=[])
        for code, value in raw.items():
            defn = defs.get(code)
            if defn is None or not defn.active:
                errors[f"custom_fields.{code}"] = N_("There is no such field.")
            elif is_empty(value):
                if defn.required:
                    errors[f"custom_fields.{code}"] = N_("This field is required.")
                else:
                    checked.cleared.append(defn)
            else:
                try:
                    checked.set.append((defn, clean(defn, value)))
                except BadValue as exc:
                    errors[f"custom_fields.{code}"] = exc.message
        if creating:
            for defn in defs.values():
                if defn.active and defn.required and defn.code not in raw:
                    errors[f"custom_fields.{defn.code}"] = N_("This field is required.")
        if errors:
            raise ValidationFailed(errors)
        await self._check_unique(session, tenant_id, checked, entity_id)
        return checked

    async def _check_unique(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        checked: CheckedValues,
        entity_id: UUID | None,
    ) -> None:
        values = FieldValueRepository(session, tenant_id)
        for defn, value in checked.set:
            if defn.is_unique and value.text is not None:
                holder = await values.key_taken(defn.id, value.text, other_than=entity_id)
                if holder is not None:
                    raise Conflict(
                        N_("Another record already has this value."),
                        details={"field": f"custom_fields.{defn.code}", "existing_id": str(holder)},
                    )

    async def unique_holders(
        self, session: AsyncSession, tenant_id: TenantId, defn: CustomFieldDef, texts: Sequence[str]
    ) -> dict[str, UUID]:
        """For a unique field: which of these canonical texts records already hold (bulk
        checks, e.g. an import, ask once instead of once per row)."""
        return await FieldValueRepository(session, tenant_id).holders_of_keys(defn.id, texts)

    async def write(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        entity_type: EntityType,
        entity_id: UUID,
        checked: CheckedValues,
    ) -> None:
        repo = FieldValueRepository(session, tenant_id)
        for defn, value in checked.set:
            await repo.upsert(entity_type, entity_id, defn.id, value, unique=defn.is_unique)
        if checked.cleared:
            await repo.remove(entity_type, entity_id, [d.id for d in checked.cleared])

    async def values_of(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        entity_type: EntityType,
        entity_ids: Sequence[UUID],
    ) -> dict[UUID, dict[str, Any]]:
        """`{entity_id: {code: value}}` for every id asked (empty dicts included)."""
        defs = {d.id: d.code for d in await self.list_defs(session, tenant_id, entity_type)}
        found: dict[UUID, dict[str, Any]] = {entity_id: {} for entity_id in entity_ids}
        rows = await FieldValueRepository(session, tenant_id).of_entities(entity_type, entity_ids)
        for row in rows:
            found[row.entity_id][defs[row.field_id]] = row.value
        return found

    async def move(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        entity_type: EntityType,
        source_id: UUID,
        target_id: UUID,
    ) -> None:
        """Merging: the target keeps its values, gains the source's for fields it lacks."""
        repo = FieldValueRepository(session, tenant_id)
        await repo.move_missing(entity_type, source_id, target_id)


custom_fields = CustomFieldService()
