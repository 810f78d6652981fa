"""A user's job title and department: codes of the coded dictionaries, checked through
the dictionaries module's public service (never its tables), stored on the profile."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

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


async def set_work_codes(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, codes: Mapping[str, str | None]
) -> tuple[WorkCodes, WorkCodes]:
    """Store the given fields (`None` clears one); 422 on the field when a code is not an
    active entry the tenant can see. Returns `(before, after)` of the given fields."""
    if not codes:
        return {}, {}
    for field, code in codes.items():
        if code is not None:
            await dictionaries.check_code(
                session, tenant_id, WORK_CODE_FIELDS[field], code, field=field
            )
    profile = await repo.ensure_profile(session, tenant_id, user_id)
    before: WorkCodes = {field: getattr(profile, field) for field in codes}
    for field, code in codes.items():
        setattr(profile, field, code)
    return before, dict(codes)
