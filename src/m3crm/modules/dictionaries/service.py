"""Coded dictionaries: reading, the tenant's own entries, and the check other modules use.

Rules:
- every tenant sees the global rows; its own rows only with the plan feature
  `admin.customDictionaries` (DECISIONS §12.1: DevPro; DevFree sees the global codes only);
- adding, editing and deactivating own entries needs that feature (402 `PLAN_REQUIRED`);
  global rows are never writable by a tenant: addressed by id they are 404, like another
  tenant's row (the write path only knows the tenant's own rows; existence is checked
  before the feature, so another tenant's id is 404 even on a plan without it);
- a code is unique among what the tenant can see: a code taken by a global row or by one
  of the tenant's entries (active or not) is 409; codes never change;
- entries are deactivated, never deleted; a deactivated code stays on profiles holding it,
  but cannot be chosen again (`check_code` refuses it with 422).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import load_entitlements
from m3crm.kernel.errors import Conflict, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.modules.dictionaries.models import DepartmentCode, DictionaryEntry, JobTitleCode
from m3crm.modules.dictionaries.repository import DictionaryRepository
from m3crm.web.nav import NavItem, register_nav

FEATURE = "admin.customDictionaries"


class DictionaryKind(enum.StrEnum):
    """The dictionaries, as named in URLs."""

    JOB_TITLES = "job-titles"
    DEPARTMENTS = "departments"


KINDS: Mapping[DictionaryKind, type[DictionaryEntry]] = {
    DictionaryKind.JOB_TITLES: JobTitleCode,
    DictionaryKind.DEPARTMENTS: DepartmentCode,
}
# The audit entity of each kind's entries.
ENTITIES: Mapping[DictionaryKind, str] = {
    DictionaryKind.JOB_TITLES: "job_title_code",
    DictionaryKind.DEPARTMENTS: "department_code",
}


@dataclass(frozen=True, slots=True)
class EntrySpec:
    code: str
    label_en: str
    label_ar: str
    sort_order: int = 0


@dataclass(frozen=True, slots=True)
class EntryChanges:
    """A PATCH: `None` leaves the attribute as it is; `code` never changes."""

    label_en: str | None = None
    label_ar: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None


def _snapshot(entry: DictionaryEntry) -> dict[str, Any]:
    return {
        "code": entry.code,
        "label_en": entry.label_en,
        "label_ar": entry.label_ar,
        "sort_order": entry.sort_order,
        "is_active": entry.is_active,
    }


class DictionaryService:
    def _repo(
        self, session: AsyncSession, tenant_id: TenantId, kind: DictionaryKind
    ) -> DictionaryRepository:
        return DictionaryRepository(session, tenant_id, KINDS[kind])

    async def custom_allowed(self, session: AsyncSession, tenant_id: TenantId) -> bool:
        """Whether the tenant's plan (with overrides) includes its own entries: screens
        show the add form or an upgrade notice from this."""
        return FEATURE in (await load_entitlements(session, tenant_id)).features

    async def list_entries(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        kind: DictionaryKind,
        *,
        active_only: bool = True,
    ) -> list[DictionaryEntry]:
        """Global entries and, with the plan feature, the tenant's own; by `sort_order`."""
        with_own = await self.custom_allowed(session, tenant_id)
        return await self._repo(session, tenant_id, kind).list(
            with_own=with_own, active_only=active_only
        )

    async def check_code(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        kind: DictionaryKind,
        code: str,
        *,
        field: str,
    ) -> DictionaryEntry:
        """The active entry `code` names among those the tenant sees; 422 on `field`
        when there is none (unknown, inactive, or a custom code without the feature)."""
        with_own = await self.custom_allowed(session, tenant_id)
        entry = await self._repo(session, tenant_id, kind).by_code(code, with_own=with_own)
        if entry is None or not entry.is_active:
            raise ValidationFailed({field: N_("Choose one of the offered options.")})
        return entry

    async def get_own(
        self, session: AsyncSession, tenant_id: TenantId, kind: DictionaryKind, entry_id: UUID
    ) -> DictionaryEntry:
        """The tenant's own entry (the edit form); a global row or another tenant's is 404,
        like a missing one. No feature check: writes check it."""
        entry = await self._repo(session, tenant_id, kind).own(entry_id)
        if entry is None:
            raise NotFound()
        return entry

    async def create(
        self, session: AsyncSession, subject: AuthSubject, kind: DictionaryKind, spec: EntrySpec
    ) -> DictionaryEntry:
        """402 without the feature; 409 when the code is taken (global or own)."""
        (await load_entitlements(session, subject.tenant_id)).require_feature(FEATURE)
        repo = self._repo(session, subject.tenant_id, kind)
        if await repo.by_code(spec.code, with_own=True) is not None:
            raise _taken()
        entry = KINDS[kind](
            code=spec.code,
            label_en=spec.label_en,
            label_ar=spec.label_ar,
            sort_order=spec.sort_order,
            is_active=True,
        )
        try:
            async with session.begin_nested():
                repo.add(entry)
                await session.flush()
        except IntegrityError as exc:  # a concurrent create of the same code
            raise _taken() from exc
        await record(
            session,
            subject,
            f"{ENTITIES[kind]}.created",
            EntityRef(ENTITIES[kind], entry.id),
            None,
            _snapshot(entry),
        )
        return entry

    async def update(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        kind: DictionaryKind,
        entry_id: UUID,
        changes: EntryChanges,
    ) -> DictionaryEntry:
        """The tenant's own entries only (a global row is 404, checked first); then 402
        without the feature."""
        entry = await self._repo(session, subject.tenant_id, kind).own(entry_id, for_update=True)
        if entry is None:
            raise NotFound()
        (await load_entitlements(session, subject.tenant_id)).require_feature(FEATURE)
        before = _snapshot(entry)
        for name in ("label_en", "label_ar", "sort_order", "is_active"):
            if (value := getattr(changes, name)) is not None:
                setattr(entry, name, value)
        after = _snapshot(entry)
        if after != before:
            await session.flush()
            await record(
                session,
                subject,
                f"{ENTITIES[kind]}.updated",
                EntityRef(ENTITIES[kind], entry.id),
                before,
                after,
            )
        return entry

    async def deactivate(
        self, session: AsyncSession, subject: AuthSubject, kind: DictionaryKind, entry_id: UUID
    ) -> DictionaryEntry:
        """`DELETE`: deactivates (profiles keep the code); already inactive changes nothing."""
        return await self.update(session, subject, kind, entry_id, EntryChanges(is_active=False))


def _taken() -> Conflict:
    return Conflict(N_("An entry with this code already exists."), details={"field": "code"})


dictionaries = DictionaryService()


def register() -> None:
    """The dictionaries admin screen in the navigation (global entries are listed on
    every plan, so the item is not feature-gated)."""
    register_nav(
        NavItem("dictionaries", N_("Dictionaries"), "/admin/dictionaries",
                "dictionaries.manage", icon="document", section="admin", order=88)
    )  # fmt: skip
