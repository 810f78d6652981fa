"""Every query on the access tables."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.repository import TenantRepository
from m3crm.modules.access.models import Role, RolePermission, UserRole


class RoleRepository(TenantRepository[Role]):
    model = Role

    async def by_code(self, code: str) -> Role | None:
        stmt = self.base_statement().where(Role.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()


async def permission_codes_of(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> frozenset[str]:
    """Union of the codes of every role the user holds: one query returning one row
    (an aggregated array), since this runs on every authenticated request."""
    stmt = (
        select(func.array_agg(RolePermission.permission_code))
        .select_from(UserRole)
        .join(
            RolePermission,
            (RolePermission.tenant_id == UserRole.tenant_id)
            & (RolePermission.role_id == UserRole.role_id),
        )
        .where(UserRole.tenant_id == tenant_id, UserRole.user_id == user_id)
    )
    codes: Sequence[str] | None = (await session.execute(stmt)).scalar_one()
    return frozenset(codes or ())
