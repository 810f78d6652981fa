"""Queries on groups: the groups, their members, and the roles they give."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import (
    Select,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User
from m3crm.modules.access.models import (
    Group,
    GroupMember,
    GroupRole,
    Role,
)


def user_ids_in_group(tenant_id: TenantId, group_id: UUID) -> Select[UUID]:
    """A subquery of the ids of the members of one of the tenant's groups (another
    tenant's group id matches nobody)."""
    return select(GroupMember.user_id).where(
        GroupMember.tenant_id == tenant_id, GroupMember.group_id == group_id
    )


class GroupRepository(TenantRepository[Group]):
    model = Group

    async def by_code(self, code: str) -> Group | None:
        stmt = self.base_statement().where(Group.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()


async def groups_with_member_counts(
    session: AsyncSession, tenant_id: TenantId
) -> list[tuple[Group, int]]:
    """Every group of the tenant with its member count, by name."""
    members = (
        select(func.count(GroupMember.id))
        .where(GroupMember.tenant_id == Group.tenant_id, GroupMember.group_id == Group.id)
        .correlate(Group)
        .scalar_subquery()
    )
    stmt = (
        select(Group, members).where(Group.tenant_id == tenant_id).order_by(Group.name, Group.code)
    )
    return [(group, int(count)) for group, count in (await session.execute(stmt)).all()]


async def group_members(
    session: AsyncSession, tenant_id: TenantId, group_id: UUID
) -> list[GroupMember]:
    """The memberships of one group, oldest first."""
    stmt = (
        select(GroupMember)
        .where(GroupMember.tenant_id == tenant_id, GroupMember.group_id == group_id)
        .order_by(GroupMember.added_at, GroupMember.id)
    )
    return list((await session.execute(stmt)).scalars())


async def groups_of_user(session: AsyncSession, tenant_id: TenantId, user_id: UUID) -> list[Group]:
    """The groups (active or not) the user is a member of, by name."""
    stmt = (
        select(Group)
        .join(
            GroupMember,
            (GroupMember.tenant_id == Group.tenant_id) & (GroupMember.group_id == Group.id),
        )
        .where(Group.tenant_id == tenant_id, GroupMember.user_id == user_id)
        .order_by(Group.name, Group.code)
    )
    return list((await session.execute(stmt)).scalars())


async def delete_group_member(
    session: AsyncSession, tenant_id: TenantId, group_id: UUID, user_id: UUID
) -> bool:
    """Remove one membership; whether there was one."""
    result = await session.execute(
        delete(GroupMember)
        .where(
            GroupMember.tenant_id == tenant_id,
            GroupMember.group_id == group_id,
            GroupMember.user_id == user_id,
        )
        .returning(GroupMember.id)
    )
    return result.first() is not None


async def members_by_group(
    session: AsyncSession, tenant_id: TenantId, user_ids: Select[UUID]
) -> dict[str, int]:
    """How many of `user_ids` (a subquery of user ids) belong to each active group, by
    group code; groups with none of them are left out."""
    stmt = (
        select(Group.code, func.count(func.distinct(GroupMember.user_id)))
        .join(
            GroupMember,
            (GroupMember.tenant_id == Group.tenant_id) & (GroupMember.group_id == Group.id),
        )
        .where(
            Group.tenant_id == tenant_id,
            Group.is_active.is_(True),
            GroupMember.user_id.in_(user_ids),
        )
        .group_by(Group.code)
        .order_by(Group.code)
    )
    return {code: int(n) for code, n in (await session.execute(stmt)).all()}


async def people_of_group(
    session: AsyncSession, tenant_id: TenantId, group_id: UUID
) -> list[tuple[UUID, str, str]]:
    """(user id, name, e-mail) of the group's members, by name."""
    stmt = (
        select(User.id, User.full_name, User.email)
        .join(
            GroupMember,
            (GroupMember.tenant_id == User.tenant_id) & (GroupMember.user_id == User.id),
        )
        .where(GroupMember.tenant_id == tenant_id, GroupMember.group_id == group_id)
        .order_by(User.full_name, User.email)
    )
    return [(uid, name, str(email)) for uid, name, email in (await session.execute(stmt)).all()]


async def active_groups_of_user(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> list[tuple[UUID, str, str]]:
    """(group id, code, name) of the active groups `user_id` is in, by code: the groups
    whose overrides apply to them (`overrides_for`), in the same order."""
    stmt = (
        select(Group.id, Group.code, Group.name)
        .join(
            GroupMember,
            (GroupMember.tenant_id == Group.tenant_id) & (GroupMember.group_id == Group.id),
        )
        .where(
            Group.tenant_id == tenant_id,
            Group.is_active.is_(True),
            GroupMember.user_id == user_id,
        )
        .order_by(Group.code)
    )
    return [(gid, code, name) for gid, code, name in (await session.execute(stmt)).all()]


async def roles_of_group(session: AsyncSession, tenant_id: TenantId, group_id: UUID) -> list[Role]:
    """The roles the group gives its members, by code."""
    stmt = (
        select(Role)
        .join(GroupRole, (GroupRole.tenant_id == Role.tenant_id) & (GroupRole.role_id == Role.id))
        .where(Role.tenant_id == tenant_id, GroupRole.group_id == group_id)
        .order_by(Role.code)
    )
    return list((await session.execute(stmt)).scalars())


async def replace_group_roles(
    session: AsyncSession, tenant_id: TenantId, group_id: UUID, role_ids: Sequence[UUID]
) -> None:
    """Make `role_ids` exactly the roles the group gives."""
    await session.execute(
        delete(GroupRole).where(GroupRole.tenant_id == tenant_id, GroupRole.group_id == group_id)
    )
    session.add_all(
        GroupRole(tenant_id=tenant_id, group_id=group_id, role_id=role_id)
        for role_id in dict.fromkeys(role_ids)
    )
    await session.flush()


async def groups_giving_role(
    session: AsyncSession, tenant_id: TenantId, role_id: UUID
) -> list[str]:
    """The codes of the groups (active or not) giving the role, by code."""
    stmt = (
        select(Group.code)
        .join(
            GroupRole, (GroupRole.tenant_id == Group.tenant_id) & (GroupRole.group_id == Group.id)
        )
        .where(Group.tenant_id == tenant_id, GroupRole.role_id == role_id)
        .order_by(Group.code)
    )
    return list((await session.execute(stmt)).scalars())


async def group_roles_of_user(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> list[tuple[str, Role]]:
    """(group code, role) for each role the user holds through an active group they are
    in (the group half of `role_holdings`), by group code then role code."""
    stmt = (
        select(Group.code, Role)
        .join(
            GroupMember,
            (GroupMember.tenant_id == Group.tenant_id) & (GroupMember.group_id == Group.id),
        )
        .join(
            GroupRole, (GroupRole.tenant_id == Group.tenant_id) & (GroupRole.group_id == Group.id)
        )
        .join(Role, (Role.tenant_id == GroupRole.tenant_id) & (Role.id == GroupRole.role_id))
        .where(
            Group.tenant_id == tenant_id,
            Group.is_active.is_(True),
            GroupMember.user_id == user_id,
        )
        .order_by(Group.code, Role.code)
    )
    return [(code, role) for code, role in (await session.execute(stmt)).all()]
