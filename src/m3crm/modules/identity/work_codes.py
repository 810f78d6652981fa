"""A user's job title and department: codes of the coded dictionaries, checked through
the dictionaries module's public service (never its tables), stored on the profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.modules.dictionaries.schemas import CODE_PATTERN
from m3crm.modules.dictionaries.service import DictionaryKind, dictionaries
from m3crm.modules.identity import repository_phone as repo

# Profile field → the dictionary its code comes from.
WORK_CODE_FIELDS: Final[Mapping[str, DictionaryKind]] = MappingProxyType(
    {"job_title_code": DictionaryKind.JOB_TITLES, "department_code": DictionaryKind.DEPARTMENTS}
)

WORK_CODE_PATTERN: Final[str] = CODE_PATTERN
WorkCodes = dict[str, str | None]


async def check_work_codes(
    session: AsyncSession, tenant_id: TenantId, codes: Mapping[str, str | None]
) -> None:
    """422 on the field when a (non-`None`) code is not an active entry the tenant can
    see; writes nothing."""
    for field, code in codes.items():
        if code is not None:
            await dictionaries.check_code(
                session, tenant_id, WORK_CODE_FIELDS[field], code, field=field
            )


async def set_work_codes(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, codes: Mapping[str, str | None]
) -> tuple[WorkCodes, WorkCodes]:
    """Store the given fields (`None` clears one); 422 on the field when a code is not an
    active entry the tenant can see. Returns `(before, after)` of the given fields."""
    if not codes:
        return {}, {}
    await check_work_codes(session, tenant_id, codes)
    profile = await repo.ensure_profile(session, tenant_id, user_id)
    before: WorkCodes = {field: getattr(profile, field) for field in codes}
    for field, code in codes.items():
        setattr(profile, field, code)
    return before, dict(codes)


@dataclass(frozen=True, slots=True)
class WorkCode:
    code: str
    label: str


WORK_CODE_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {"job_title_code": N_("Job title"), "department_code": N_("Department")}
)


async def work_code_choices(
    session: AsyncSession, tenant_id: TenantId, locale: str
) -> dict[str, list[tuple[str, str]]]:
    """Per profile field, the `(code, label)` a person may choose now: the active entries
    the tenant sees, in dictionary order, labelled in `locale` (as `work_codes_of`)."""
    choices: dict[str, list[tuple[str, str]]] = {}
    for field, kind in WORK_CODE_FIELDS.items():
        entries = await dictionaries.list_entries(session, tenant_id, kind)
        choices[field] = [
            (e.code, e.label_ar if locale == "ar" and e.label_ar else e.label_en) for e in entries
        ]
    return choices


async def work_codes_of(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, locale: str
) -> dict[str, WorkCode | None]:
    """The user's codes per profile field (`None` when unset), each with its label in
    `locale` (Arabic for `ar` when the entry has one, else English). Deactivated entries
    keep their label; a code whose entry the tenant no longer sees (a custom code after
    the plan lost the feature) reads as the code itself."""
    profile = await repo.profile_of(session, tenant_id, user_id)
    found: dict[str, WorkCode | None] = {}
    for field, kind in WORK_CODE_FIELDS.items():
        code: str | None = getattr(profile, field) if profile is not None else None
        if code is None:
            found[field] = None
            continue
        entries = await dictionaries.list_entries(session, tenant_id, kind, active_only=False)
        entry = next((e for e in entries if e.code == code), None)
        label = code
        if entry is not None:
            label = entry.label_ar if locale == "ar" and entry.label_ar else entry.label_en
        found[field] = WorkCode(code=code, label=label)
    return found
