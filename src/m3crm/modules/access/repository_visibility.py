"""Queries behind record visibility scopes: the scopes a user's roles grant, each
role's stored scopes, and who is below a user (`subtree`) or shares a group with them
(`group`)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import (
    Select,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.visibility import Scope
from m3crm.modules.access.models import (
    Group,
    GroupMember,
    RoleHierarchy,
    RoleRecordScope,
)
from m3crm.modules.access.repository import held_role_ids, role_holdings


async def scopes_of(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, record_type: str
) -> frozenset[Scope]:
    """The scopes the roles the user holds (`role_holdings`: directly or through an
    active group) grant for `record_type` (a role without a row grants `all`); empty for
    a user without roles."""
    held = held_role_ids(tenant_id, user_id).subquery("held")
    stmt = (
        select(func.coalesce(RoleRecordScope.scope, Scope.ALL.value))
        .select_from(held)
        .outerjoin(
            RoleRecordScope,
            (RoleRecordScope.tenant_id == tenant_id)
            & (RoleRecordScope.role_id == held.c.role_id)
            & (RoleRecordScope.record_type == record_type),
        )
    )
    return frozenset(Scope(value) for value in (await session.execute(stmt)).scalars())


async def role_scopes(
    session: AsyncSession, tenant_id: TenantId, role_id: UUID
) -> dict[str, Scope]:
    stmt = select(RoleRecordScope.record_type, RoleRecordScope.scope).where(
        RoleRecordScope.tenant_id == tenant_id, RoleRecordScope.role_id == role_id
    )
    return {record_type: scope for record_type, scope in (await session.execute(stmt)).all()}


async def replace_role_scopes(
    session: AsyncSession, tenant_id: TenantId, role_id: UUID, scopes: dict[str, Scope]
) -> None:
    """Make the role's rows exactly `scopes` (a type left out grants `all`)."""
    await session.execute(
        delete(RoleRecordScope).where(
            RoleRecordScope.tenant_id == tenant_id, RoleRecordScope.role_id == role_id
        )
    )
    session.add_all(
        RoleRecordScope(tenant_id=tenant_id, role_id=role_id, record_type=t, scope=s)
        for t, s in scopes.items()
        if s is not Scope.ALL
    )
    await session.flush()


def subordinate_user_ids_query(tenant_id: TenantId, user_id: UUID) -> Select[UUID]:
    """Ids of the users holding a role strictly below one of the roles `user_id` holds,
    at any depth, `user_id` excluded; a subquery for visibility filters. Both sides are
    `role_holdings`: a role held through an active group places its holder above (or
    below) as a direct one does. The recursive step uses `UNION`, so it ends even on a
    (refused, but defended against) cycle."""
    below = (
        select(RoleHierarchy.child_role_id.label("role_id"))
        .where(
            RoleHierarchy.tenant_id == tenant_id,
            RoleHierarchy.parent_role_id.in_(held_role_ids(tenant_id, user_id)),
        )
        .cte("below", recursive=True)
    )
    below = below.union(
        select(RoleHierarchy.child_role_id).where(
            RoleHierarchy.tenant_id == tenant_id, RoleHierarchy.parent_role_id == below.c.role_id
        )
    )
    held = role_holdings(tenant_id).subquery("held")
    return (
        select(held.c.user_id)
        .where(held.c.role_id.in_(select(below.c.role_id)), held.c.user_id != user_id)
        .distinct()
    )


def group_peer_user_ids_query(tenant_id: TenantId, user_id: UUID) -> Select[UUID]:
    """Ids of the users sharing an active group with `user_id`, `user_id` excluded; a
    subquery for visibility filters. An inactive group joins nobody."""
    mine = (
        select(GroupMember.group_id)
        .join(
            Group, (Group.tenant_id == GroupMember.tenant_id) & (Group.id == GroupMember.group_id)
        )
        .where(
            GroupMember.tenant_id == tenant_id,
            GroupMember.user_id == user_id,
            Group.is_active.is_(True),
        )
    )
    return (
        select(GroupMember.user_id)
        .where(
            GroupMember.tenant_id == tenant_id,
            GroupMember.group_id.in_(mine),
            GroupMember.user_id != user_id,
        )
        .distinct()
    )


async def user_ids_of(session: AsyncSession, query: Select[UUID]) -> set[UUID]:
    return set((await session.execute(query)).scalars())
