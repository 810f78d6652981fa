"""Every query on the access tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import BindParameter, ColumnElement, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access.models import Role, RolePermission, UserRole


class RoleRepository(TenantRepository[Role]):
    model = Role

    async def by_code(self, code: str) -> Role | None:
        stmt = self.base_statement().where(Role.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()


def permission_codes_of(
    tenant_id: BindParameter[UUID], user_id: BindParameter[UUID]
) -> ColumnElement[Any]:
    """Union of the codes of every role the user holds, as one aggregated array: a
    scalar subquery the kernel embeds in its per-request authentication statement."""
    return (
        select(func.array_agg(RolePermission.permission_code))
        .select_from(UserRole)
        .join(
            RolePermission,
            (RolePermission.tenant_id == UserRole.tenant_id)
            & (RolePermission.role_id == UserRole.role_id),
        )
        .where(UserRole.tenant_id == tenant_id, UserRole.user_id == user_id)
        .scalar_subquery()
    )


async def roles_with_user_counts(
    session: AsyncSession, tenant_id: TenantId
) -> list[tuple[Role, int]]:
    """Every role of the tenant with how many users hold it; system roles first."""
    holders = (
        select(func.count(UserRole.id))
        .where(UserRole.tenant_id == Role.tenant_id, UserRole.role_id == Role.id)
        .correlate(Role)
        .scalar_subquery()
    )
    stmt = (
        select(Role, holders)
        .where(Role.tenant_id == tenant_id)
        .order_by(Role.is_system.desc(), Role.name, Role.code)
    )
    return [(role, int(count)) for role, count in (await session.execute(stmt)).all()]


async def role_permission_codes(
    session: AsyncSession, tenant_id: TenantId, role_ids: Sequence[UUID]
) -> set[str]:
    if not role_ids:
        return set()
    stmt = select(RolePermission.permission_code).where(
        RolePermission.tenant_id == tenant_id, RolePermission.role_id.in_(role_ids)
    )
    return set((await session.execute(stmt)).scalars())


async def roles_by_codes(
    session: AsyncSession, tenant_id: TenantId, codes: Sequence[str]
) -> list[Role]:
    if not codes:
        return []
    stmt = select(Role).where(Role.tenant_id == tenant_id, Role.code.in_(codes))
    return list((await session.execute(stmt)).scalars())


async def roles_of_users(
    session: AsyncSession, tenant_id: TenantId, user_ids: Sequence[UUID]
) -> dict[UUID, list[Role]]:
    """The roles each of `user_ids` holds (by code); users holding none are absent."""
    if not user_ids:
        return {}
    stmt = (
        select(UserRole.user_id, Role)
        .join(Role, (Role.tenant_id == UserRole.tenant_id) & (Role.id == UserRole.role_id))
        .where(UserRole.tenant_id == tenant_id, UserRole.user_id.in_(user_ids))
        .order_by(Role.code)
    )
    found: dict[UUID, list[Role]] = {}
    for user_id, role in (await session.execute(stmt)).all():
        found.setdefault(user_id, []).append(role)
    return found


async def delete_user_roles(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, role_ids: Sequence[UUID]
) -> None:
    if role_ids:
        await session.execute(
            delete(UserRole).where(
                UserRole.tenant_id == tenant_id,
                UserRole.user_id == user_id,
                UserRole.role_id.in_(role_ids),
            )
        )


async def active_holders(
    session: AsyncSession, tenant_id: TenantId, role_code: str, *, excluding: UUID
) -> int:
    """Active users other than `excluding` who hold the role `role_code`."""
    stmt = (
        select(func.count(func.distinct(UserRole.user_id)))
        .select_from(UserRole)
        .join(Role, (Role.tenant_id == UserRole.tenant_id) & (Role.id == UserRole.role_id))
        .join(User, (User.tenant_id == UserRole.tenant_id) & (User.id == UserRole.user_id))
        .where(
            UserRole.tenant_id == tenant_id,
            Role.code == role_code,
            User.status == UserStatus.ACTIVE,
            UserRole.user_id != excluding,
        )
    )
    return int((await session.execute(stmt)).scalar_one())


def user_ids_holding(tenant_id: TenantId, role_code: str) -> Select[UUID]:
    """A subquery of the ids of the tenant's users holding `role_code` (for other
    modules' filters: `User.id.in_(user_ids_holding(...))`)."""
    return (
        select(UserRole.user_id)
        .join(Role, (Role.tenant_id == UserRole.tenant_id) & (Role.id == UserRole.role_id))
        .where(UserRole.tenant_id == tenant_id, Role.code == role_code)
    )


async def active_users_with_permission(
    session: AsyncSession, tenant_id: TenantId, code: str, *, limit: int = 50
) -> list[UUID]:
    """Active users of the tenant holding `code` through any of their roles (at most
    `limit`, oldest accounts first: they are the workspace's owners)."""
    stmt = (
        select(UserRole.user_id)
        .join(
            RolePermission,
            (RolePermission.tenant_id == UserRole.tenant_id)
            & (RolePermission.role_id == UserRole.role_id),
        )
        .join(User, (User.tenant_id == UserRole.tenant_id) & (User.id == UserRole.user_id))
        .where(
            UserRole.tenant_id == tenant_id,
            RolePermission.permission_code == code,
            User.status == UserStatus.ACTIVE,
        )
        .group_by(UserRole.user_id)
        .order_by(UserRole.user_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
