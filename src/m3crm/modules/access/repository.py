"""Queries on roles, role holdings (direct and through groups), permissions and groups.

Entitlement overrides are in `repository_overrides`, record visibility in
`repository_visibility`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    delete,
    exists,
    func,
    literal,
    not_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access.models import (
    Group,
    GroupMember,
    GroupRole,
    Role,
    RoleHierarchy,
    RolePermission,
    UserRole,
)


class RoleRepository(TenantRepository[Role]):
    model = Role

    async def by_code(self, code: str) -> Role | None:
        stmt = self.base_statement().where(Role.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()


def _holding(tenant_id: Any, user_id: Any) -> tuple[Select[UUID, UUID], Select[UUID, UUID]]:
    """The two halves of `role_holdings`: `(user_id, role_id)` of the direct rows, and of
    the roles of the active groups the user is a member of."""
    direct = select(UserRole.user_id.label("user_id"), UserRole.role_id.label("role_id")).where(
        UserRole.tenant_id == tenant_id
    )
    via_group = (
        select(GroupMember.user_id, GroupRole.role_id)
        .join(
            GroupRole,
            (GroupRole.tenant_id == GroupMember.tenant_id)
            & (GroupRole.group_id == GroupMember.group_id),
        )
        .join(
            Group, (Group.tenant_id == GroupMember.tenant_id) & (Group.id == GroupMember.group_id)
        )
        .where(GroupMember.tenant_id == tenant_id, Group.is_active.is_(True))
    )
    if user_id is not None:
        direct = direct.where(UserRole.user_id == user_id)
        via_group = via_group.where(GroupMember.user_id == user_id)
    # Columns of enclosing statements correlate at any depth (auto-correlation reaches
    # only the immediately enclosing SELECT).
    return (
        direct.correlate_except(UserRole),
        via_group.correlate_except(GroupMember, GroupRole, Group),
    )


def role_holdings(tenant_id: Any, user_id: Any = None) -> CompoundSelect[UUID, UUID]:
    """`(user_id, role_id)` for every role a user *holds*: their own `user_roles` rows,
    and the roles (`group_roles`) of every **active** group they are a member of. This is
    the one definition of "the roles a user holds": permissions, visibility scopes, the
    subtree of a reporting line, seats, notices and the role filters all read it (or
    `held_role_ids`), so joining or leaving a group, (de)activating it or changing its
    roles counts on the next request.

    `tenant_id` / `user_id` may be values, bound parameters or columns of an enclosing
    statement (correlation); `user_id=None` answers for every user of the tenant. The
    `UNION` makes each pair distinct (a role held both ways counts once)."""
    return union(*_holding(tenant_id, user_id))


def held_role_ids(tenant_id: Any, user_id: Any) -> CompoundSelect[UUID]:
    """The ids of the roles `user_id` holds (`role_holdings`), one `role_id` column; with
    columns of an enclosing statement it correlates (e.g. `User.tenant_id, User.id`)."""
    return union(
        *(
            half.with_only_columns(half.selected_columns.role_id)
            for half in _holding(tenant_id, user_id)
        )
    )


def _and_below(tenant_id: Any, seed: Select[UUID] | CompoundSelect[UUID]) -> CTE:
    """`seed`'s role ids and every role below them in the hierarchy, at any depth (one
    `role_id` column). The recursion uses `UNION`, so it ends even on a cycle."""
    start = seed.subquery("seed")
    roles = select(start.c.role_id).cte("held_roles", recursive=True, nesting=True)
    return roles.union(
        select(RoleHierarchy.child_role_id).where(
            RoleHierarchy.tenant_id == tenant_id, RoleHierarchy.parent_role_id == roles.c.role_id
        )
    )


def permission_codes_of(
    tenant_id: BindParameter[UUID], user_id: BindParameter[UUID]
) -> ColumnElement[Any]:
    """The codes of every role the user holds (`role_holdings`: directly or through an
    active group) *and of every role below those* in the hierarchy (a role inherits the
    permissions of the roles under it), as one aggregated array: a scalar subquery the
    kernel embeds in its per-request authentication statement."""
    held = _and_below(tenant_id, held_role_ids(tenant_id, user_id))
    return (
        select(func.array_agg(RolePermission.permission_code))
        .where(
            RolePermission.tenant_id == tenant_id,
            RolePermission.role_id.in_(select(held.c.role_id)),
        )
        .scalar_subquery()
    )


async def codes_carried(
    session: AsyncSession, tenant_id: TenantId, role_ids: Sequence[UUID]
) -> set[str]:
    """Every code `role_ids` carry, themselves or through the roles below them: what a
    holder of all of them gains (callers refuse handing out a role whose codes they lack)."""
    if not role_ids:
        return set()
    seed = select(Role.id.label("role_id")).where(
        Role.tenant_id == tenant_id, Role.id.in_(role_ids)
    )
    roles = _and_below(tenant_id, seed)
    stmt = (
        select(RolePermission.permission_code)
        .where(
            RolePermission.tenant_id == tenant_id,
            RolePermission.role_id.in_(select(roles.c.role_id)),
        )
        .distinct()
    )
    return set((await session.execute(stmt)).scalars())


async def roles_with_user_counts(
    session: AsyncSession, tenant_id: TenantId
) -> list[tuple[Role, int]]:
    """Every role of the tenant with how many users hold it (`role_holdings`: directly
    or through an active group); system roles first."""
    held = role_holdings(tenant_id).subquery("held")
    stmt = (
        select(Role, func.count(func.distinct(held.c.user_id)))
        .outerjoin(held, held.c.role_id == Role.id)
        .where(Role.tenant_id == tenant_id)
        .group_by(Role.tenant_id, Role.id)
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


async def codes_by_role(
    session: AsyncSession, tenant_id: TenantId, role_ids: Sequence[UUID]
) -> dict[UUID, set[str]]:
    """The codes each of `role_ids` carries itself; roles without any are absent."""
    if not role_ids:
        return {}
    stmt = select(RolePermission.role_id, RolePermission.permission_code).where(
        RolePermission.tenant_id == tenant_id, RolePermission.role_id.in_(role_ids)
    )
    found: dict[UUID, set[str]] = {}
    for role_id, code in (await session.execute(stmt)).all():
        found.setdefault(role_id, set()).add(code)
    return found


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
    """The roles each of `user_ids` is given *directly* (`user_roles`, by code): what role
    assignment edits. Roles through groups are not listed (see `role_holdings`); users
    given none are absent."""
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
    """Active users other than `excluding` who hold the role `role_code` (`role_holdings`)."""
    held = role_holdings(tenant_id).subquery("held")
    stmt = (
        select(func.count(func.distinct(held.c.user_id)))
        .select_from(held)
        .join(Role, (Role.tenant_id == tenant_id) & (Role.id == held.c.role_id))
        .join(User, (User.tenant_id == tenant_id) & (User.id == held.c.user_id))
        .where(
            Role.code == role_code,
            User.status == UserStatus.ACTIVE,
            held.c.user_id != excluding,
        )
    )
    return int((await session.execute(stmt)).scalar_one())


def user_ids_holding(tenant_id: TenantId, role_code: str) -> Select[UUID]:
    """A subquery of the ids of the tenant's users holding `role_code`, directly or
    through an active group (`role_holdings`), for other modules' filters:
    `User.id.in_(user_ids_holding(...))`. "People with role X" means everyone the role's
    permissions apply to, so a group member counts."""
    held = role_holdings(tenant_id).subquery("held")
    return (
        select(held.c.user_id)
        .join(Role, (Role.tenant_id == tenant_id) & (Role.id == held.c.role_id))
        .where(Role.code == role_code)
    )


async def active_users_with_permission(
    session: AsyncSession, tenant_id: TenantId, code: str, *, limit: int = 50
) -> list[UUID]:
    """Active users of the tenant holding `code` through any of the roles they hold
    (`role_holdings`; at most `limit`, oldest accounts first: they are the workspace's
    owners)."""
    held = role_holdings(tenant_id).subquery("held")
    stmt = (
        select(held.c.user_id)
        .join(
            RolePermission,
            (RolePermission.tenant_id == tenant_id) & (RolePermission.role_id == held.c.role_id),
        )
        .join(User, (User.tenant_id == tenant_id) & (User.id == held.c.user_id))
        .where(RolePermission.permission_code == code, User.status == UserStatus.ACTIVE)
        .group_by(held.c.user_id)
        .order_by(held.c.user_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


class RoleHierarchyRepository(TenantRepository[RoleHierarchy]):
    model = RoleHierarchy


async def count_rows(
    session: AsyncSession, tenant_id: TenantId, model: type[Role] | type[Group]
) -> int:
    """How many roles (or groups) the tenant has: the usage of `roles.max` / `groups.max`."""
    stmt = select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
    return int((await session.execute(stmt)).scalar_one())


async def existing_user_ids(
    session: AsyncSession, tenant_id: TenantId, user_ids: Sequence[UUID]
) -> set[UUID]:
    """Which of `user_ids` are users of this tenant."""
    if not user_ids:
        return set()
    stmt = select(User.id).where(User.tenant_id == tenant_id, User.id.in_(user_ids))
    return set((await session.execute(stmt)).scalars())


async def hierarchy_edges(session: AsyncSession, tenant_id: TenantId) -> list[RoleHierarchy]:
    """Every edge of the tenant's role tree, oldest first."""
    stmt = (
        select(RoleHierarchy)
        .where(RoleHierarchy.tenant_id == tenant_id)
        .order_by(RoleHierarchy.created_at, RoleHierarchy.id)
    )
    return list((await session.execute(stmt)).scalars())


async def lock_hierarchy(session: AsyncSession, tenant_id: TenantId) -> None:
    """Serialise changes to one tenant's role tree until the transaction ends, so two
    concurrent edges cannot each pass the cycle check and together close a cycle."""
    key = func.hashtextextended(literal(f"role_hierarchy:{tenant_id}"), 0)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def role_holders(
    session: AsyncSession, tenant_id: TenantId, role_id: UUID
) -> list[tuple[UUID, str]]:
    """(id, email) of every user given the role directly (`user_roles`), by email: the
    people to give another role before it can go (groups giving it: `groups_giving_role`)."""
    stmt = (
        select(User.id, User.email)
        .join(UserRole, (UserRole.tenant_id == User.tenant_id) & (UserRole.user_id == User.id))
        .where(UserRole.tenant_id == tenant_id, UserRole.role_id == role_id)
        .order_by(User.email)
    )
    return [(uid, email) for uid, email in (await session.execute(stmt)).all()]


async def set_role_permissions(
    session: AsyncSession, tenant_id: TenantId, role_id: UUID, codes: Sequence[str]
) -> None:
    """Make `codes` exactly the role's permission codes."""
    await session.execute(
        delete(RolePermission).where(
            RolePermission.tenant_id == tenant_id, RolePermission.role_id == role_id
        )
    )
    session.add_all(
        RolePermission(tenant_id=tenant_id, role_id=role_id, permission_code=code)
        for code in sorted(set(codes))
    )
    await session.flush()


def holds_only_roles(codes: frozenset[str]) -> ColumnElement[bool]:
    """A predicate on `users`: the user holds at least one role, and every role they hold
    (`role_holdings`: directly or through an active group) is one of `codes`; a user
    without roles does not match. The seat rule reads it, so a viewer given a paid role
    through a group takes a seat like one given it directly."""
    held = held_role_ids(User.tenant_id, User.id)
    other_role = exists().where(
        Role.tenant_id == User.tenant_id, Role.id.in_(held), Role.code.not_in(codes)
    )
    return and_(held.exists(), not_(other_role))


async def holders_by_role(
    session: AsyncSession, tenant_id: TenantId, user_ids: Select[UUID]
) -> dict[str, int]:
    """How many of `user_ids` (a subquery of user ids) hold each role (`role_holdings`),
    by role code (a user with two roles counts under both); roles none of them hold are
    left out."""
    held = role_holdings(tenant_id).subquery("held")
    stmt = (
        select(Role.code, func.count(func.distinct(held.c.user_id)))
        .join(held, held.c.role_id == Role.id)
        .where(Role.tenant_id == tenant_id, held.c.user_id.in_(user_ids))
        .group_by(Role.code)
        .order_by(Role.code)
    )
    return {code: int(n) for code, n in (await session.execute(stmt)).all()}


async def active_people(session: AsyncSession, tenant_id: TenantId) -> list[tuple[UUID, str, str]]:
    """(user id, name, e-mail) of the tenant's active users, by name (for pickers)."""
    stmt = (
        select(User.id, User.full_name, User.email)
        .where(User.tenant_id == tenant_id, User.status == UserStatus.ACTIVE)
        .order_by(User.full_name, User.email)
        .limit(1000)
    )
    return [(uid, name, str(email)) for uid, name, email in (await session.execute(stmt)).all()]
