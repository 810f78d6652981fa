"""Role templates per tenant, role assignment, custom roles and the role hierarchy.

Invariants: a role holds the codes it carries and those of every role below it in the
hierarchy (inheritance; the authentication statement computes the same set); a user
holds their own roles and those of the active groups they are in
(`repository.role_holdings`, read at each request); a system
role's permission codes are the template's (only its name may change) and it is never
deleted; a role held by anyone is not deleted (409 listing the
holders); the role hierarchy has no cycle (409 with the cycle's codes), which an
advisory lock per tenant keeps true under concurrent edits. Creating a role counts
against `roles.max` (422 `LIMIT_REACHED`). Every change is audited with before/after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import (
    load_entitlements,
    no_growth_past_limit,
    register_override_layer,
    register_usage_source,
)
from m3crm.kernel.errors import (
    Conflict,
    LimitReached,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.permission_codes import PERMISSIONS, ROLE_TEMPLATES
from m3crm.kernel.permissions import register_permission_query
from m3crm.kernel.plan_catalog import SEATS
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.kernel.tenancy.repository import user_by_id
from m3crm.kernel.visibility import register_scope_source
from m3crm.modules.access import (
    overrides,
    repository,
    repository_groups,
    repository_visibility,
    scopes,
)
from m3crm.modules.access.groups import GROUPS_MAX, groups_in_use
from m3crm.modules.access.models import Role, RoleHierarchy, RolePermission, UserRole
from m3crm.modules.access.repository import (
    RoleHierarchyRepository,
    RoleRepository,
    permission_codes_of,
)
from m3crm.web.nav import NavItem, register_nav

SUPER_ADMIN = "super_admin"
# Holding this code is what "admin rights" means for a caller editing their own roles:
# without it nobody could give the rights back.
ADMIN_RIGHT = "role.assign"
ROLES_MAX = "roles.max"
SEEDED_ROLE_NAMES: Mapping[str, Mapping[str, str]] = {
    "super_admin": {"en": "Super Admin", "ar": "المسؤول الأعلى"},
    "admin": {"en": "Admin", "ar": "مسؤول"},
    "staff": {"en": "Staff", "ar": "موظف"},
    "sales_agent": {"en": "Sales Agent", "ar": "وكيل مبيعات"},
    "sales_manager": {"en": "Sales Manager", "ar": "مدير المبيعات"},
    "finance_manager": {"en": "Finance Manager", "ar": "المدير المالي"},
    "inventory_manager": {"en": "Inventory Manager", "ar": "مدير المخزون"},
    "marketing_manager": {"en": "Marketing Manager", "ar": "مدير التسويق"},
    "viewer": {"en": "Viewer", "ar": "مطّلع"},
}
"""The seeded roles' names in each language: a new workspace gets them in its default
language (names are the workspace's data from then on: it may rename them)."""


async def require_grantable(
    session: AsyncSession, subject: AuthSubject, role_ids: Sequence[UUID]
) -> None:
    """403 (with `details.permissions`, the codes lacking) when the roles grant any
    permission `subject` does not hold: nobody gives a role beyond their own rights.
    Every way a role reaches a user goes through it (assigning roles, creating a user,
    inviting one)."""
    granted = await repository.role_permission_codes(session, subject.tenant_id, role_ids)
    if not granted <= subject.permissions:
        raise PermissionDenied(details={"permissions": sorted(granted - subject.permissions)})


class AccessService:
    async def install_role_templates(
        self, session: AsyncSession, tenant_id: TenantId, locale: str = "en"
    ) -> None:
        """Create the seeded roles (DECISIONS §1.2) with their codes, named in `locale`
        (English when it has no names); idempotent."""
        repo = RoleRepository(session, tenant_id)
        for code, permissions in ROLE_TEMPLATES.items():
            if await repo.by_code(code) is not None:
                continue
            names = SEEDED_ROLE_NAMES.get(code, {})
            name = names.get(locale) or names.get("en") or code.replace("_", " ").title()
            role = repo.add(Role(code=code, name=name, is_system=True))
            await session.flush()
            for permission in sorted(permissions):
                session.add(
                    RolePermission(tenant_id=tenant_id, role_id=role.id, permission_code=permission)
                )
        await session.flush()

    async def assign_role(
        self, session: AsyncSession, tenant_id: TenantId, user_id: UUID, role_code: str
    ) -> None:
        role = await RoleRepository(session, tenant_id).by_code(role_code)
        if role is None:
            raise ValueError(f"no role {role_code!r} in tenant")
        session.add(UserRole(tenant_id=tenant_id, user_id=user_id, role_id=role.id))
        await session.flush()

    async def list_roles(
        self, session: AsyncSession, subject: AuthSubject
    ) -> list[tuple[Role, int]]:
        """The tenant's roles with their holder counts."""
        return await repository.roles_with_user_counts(session, subject.tenant_id)

    async def role_permissions(
        self, session: AsyncSession, subject: AuthSubject, role_id: UUID
    ) -> tuple[Role, list[str]]:
        """A role of this tenant (another tenant's id is a 404) and its codes, sorted."""
        role = await RoleRepository(session, subject.tenant_id).get_or_404(role_id)
        codes = await repository.role_permission_codes(session, subject.tenant_id, [role.id])
        return role, sorted(codes)

    async def effective_permissions(
        self, session: AsyncSession, subject: AuthSubject, user_id: UUID
    ) -> dict[str, Grant]:
        """Every permission code the user holds now (the same set the authentication
        statement computes), each with the held roles granting it, the roles below them
        it is inherited from, and the active groups through which a granting role is held
        (the "why" of the admin's Access tab). Another tenant's user is a 404."""
        if await user_by_id(session, user_id) is None:
            raise NotFound()
        tenant_id = subject.tenant_id
        direct = (await repository.roles_of_users(session, tenant_id, [user_id])).get(user_id, [])
        through = await repository_groups.group_roles_of_user(session, tenant_id, user_id)
        held = {role.id: role for role in direct} | {role.id: role for _, role in through}
        groups_of: dict[UUID, set[str]] = {}
        for group_code, role in through:
            groups_of.setdefault(role.id, set()).add(group_code)
        below = _below(await repository.hierarchy_edges(session, tenant_id))
        reach = {role_id: _reachable(below, role_id) for role_id in held}
        carried = await repository.codes_by_role(
            session, tenant_id, sorted({r for ids in reach.values() for r in ids})
        )
        names = await _role_codes(session, tenant_id)
        by: dict[str, set[str]] = {}
        via: dict[str, set[str]] = {}
        via_groups: dict[str, set[str]] = {}
        for role in held.values():
            for carrier in reach[role.id]:
                for code in carried.get(carrier, ()):
                    by.setdefault(code, set()).add(role.code)
                    via_groups.setdefault(code, set()).update(groups_of.get(role.id, ()))
                    if carrier != role.id:
                        via.setdefault(code, set()).add(names[carrier])
        return {
            code: Grant(sorted(by[code]), sorted(via.get(code, ())), sorted(via_groups[code]))
            for code in sorted(by)
        }

    async def inherited_permissions(
        self, session: AsyncSession, subject: AuthSubject, role_id: UUID
    ) -> dict[str, list[str]]:
        """The codes a role holds through the roles below it (not those it carries
        itself), each with the codes of the roles below that carry it."""
        tenant_id = subject.tenant_id
        role = await RoleRepository(session, tenant_id).get_or_404(role_id)
        below = _reachable(_below(await repository.hierarchy_edges(session, tenant_id)), role.id)
        below.discard(role.id)
        carried = await repository.codes_by_role(session, tenant_id, sorted(below))
        own = await repository.role_permission_codes(session, tenant_id, [role.id])
        names = await _role_codes(session, tenant_id)
        found: dict[str, set[str]] = {}
        for carrier, codes in carried.items():
            for code in codes - own:
                found.setdefault(code, set()).add(names[carrier])
        return {code: sorted(found[code]) for code in sorted(found)}

    async def roles_of_users(
        self, session: AsyncSession, tenant_id: TenantId, user_ids: Sequence[UUID]
    ) -> dict[UUID, list[str]]:
        """Role codes per user (sorted); a user without roles maps to `[]`."""
        found = await repository.roles_of_users(session, tenant_id, user_ids)
        return {uid: [r.code for r in found.get(uid, [])] for uid in user_ids}

    def user_ids_holding(self, tenant_id: TenantId, role_code: str) -> Select[UUID]:
        return repository.user_ids_holding(tenant_id, role_code)

    def user_ids_in_group(self, tenant_id: TenantId, group_id: UUID) -> Select[UUID]:
        return repository_groups.user_ids_in_group(tenant_id, group_id)

    async def is_last_super_admin(
        self, session: AsyncSession, tenant_id: TenantId, user: User
    ) -> bool:
        """Whether `user` is the only active holder of `super_admin` in the tenant."""
        if user.status != UserStatus.ACTIVE:
            return False
        held = (await self.roles_of_users(session, tenant_id, [user.id]))[user.id]
        if SUPER_ADMIN not in held:
            return False
        return (
            await repository.active_holders(session, tenant_id, SUPER_ADMIN, excluding=user.id) == 0
        )

    async def change_user_roles(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        user_id: UUID,
        *,
        assign: Sequence[str],
        remove: Sequence[str],
    ) -> list[str]:
        """Give and take roles by code; returns the user's codes afterwards.

        Order of refusals: another tenant's (or no) user → 404; a code not in the tenant,
        or in both lists → 422; a role granting codes the caller lacks → 403; taking the
        last active super admin's role, or the caller's own `role.assign` → 409; a change
        that makes a seatless user hold a seat beyond `users.max` → 422 `LIMIT_REACHED`.
        Assigning a held role or removing an absent one changes nothing.
        """
        tenant_id = subject.tenant_id
        user = await session.get(User, (tenant_id, user_id))
        if user is None:
            raise NotFound()
        errors: dict[str, str] = {}
        wanted = {"assign": list(dict.fromkeys(assign)), "remove": list(dict.fromkeys(remove))}
        roles: dict[str, Role] = {}
        for field, codes in wanted.items():
            found = {r.code: r for r in await repository.roles_by_codes(session, tenant_id, codes)}
            unknown = [c for c in codes if c not in found]
            if unknown:
                errors[field] = N_("Choose roles from the list.")
            roles.update(found)
        if set(wanted["assign"]) & set(wanted["remove"]):
            errors["remove"] = N_("A role cannot be given and taken away at once.")
        if errors:
            raise ValidationFailed(errors)

        before = (await repository.roles_of_users(session, tenant_id, [user_id])).get(user_id, [])
        held = {r.code: r for r in before}
        adding = [roles[c] for c in wanted["assign"] if c not in held]
        removing = [held[c] for c in wanted["remove"] if c in held]
        await require_grantable(session, subject, [r.id for r in adding])
        after_roles = [r for r in before if r not in removing] + adding
        if any(r.code == SUPER_ADMIN for r in removing) and await self.is_last_super_admin(
            session, tenant_id, user
        ):
            raise Conflict(N_("The organisation must keep at least one active super admin."))
        if user_id == subject.user_id and removing:
            left = await repository.role_permission_codes(
                session, tenant_id, [r.id for r in after_roles]
            )
            if ADMIN_RIGHT not in left:
                raise Conflict(N_("You cannot take away your own right to manage roles."))

        codes_before = sorted(held)
        async with no_growth_past_limit(session, tenant_id, SEATS):  # a viewer given a seat
            if adding:
                for role in adding:
                    session.add(UserRole(tenant_id=tenant_id, user_id=user_id, role_id=role.id))
                await session.flush()
            if removing:
                await repository.delete_user_roles(
                    session, tenant_id, user_id, [r.id for r in removing]
                )
        codes_after = sorted(
            ({*codes_before} | {r.code for r in adding}) - {r.code for r in removing}
        )
        if codes_after != codes_before:
            await record(
                session,
                subject,
                "user.role.changed",
                EntityRef("user", user_id),
                {"roles": codes_before},
                {"roles": codes_after},
            )
        return sorted(r.code for r in after_roles)

    async def create_role(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        *,
        code: str,
        name: str,
        permissions: Sequence[str],
    ) -> Role:
        """A custom role. Refusals in order: one role more than `roles.max` → 422
        `LIMIT_REACHED`; a code outside the registry → 422 on `permissions`; granting codes
        the caller lacks → 403; a taken role code → 409."""
        tenant_id = subject.tenant_id
        limit = (await load_entitlements(session, tenant_id)).limits.get(ROLES_MAX, 0)
        if await roles_in_use(session, tenant_id) + 1 > limit:
            raise LimitReached(ROLES_MAX, limit)
        codes = self._checked_codes(subject, permissions)
        repo = RoleRepository(session, tenant_id)
        taken = Conflict(N_("A role with this code already exists."), details={"code": code})
        if await repo.by_code(code) is not None:
            raise taken
        role = Role(code=code, name=name, is_system=False)
        try:
            async with session.begin_nested():  # a concurrent create loses on the unique key
                repo.add(role)
        except IntegrityError:
            raise taken from None
        await repository.set_role_permissions(session, tenant_id, role.id, codes)
        await record(
            session, subject, "role.created", EntityRef("role", role.id), None,
            {"code": role.code, "name": role.name, "permissions": codes},
        )  # fmt: skip
        return role

    async def update_role(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        role_id: UUID,
        *,
        name: str | None,
        permissions: Sequence[str] | None,
    ) -> Role:
        """Rename a role and/or replace its codes (`None` leaves either alone). A system
        role's codes are fixed (409 when `permissions` differs from them); codes outside
        the registry are 422; granting codes the caller lacks is 403."""
        tenant_id = subject.tenant_id
        role = await RoleRepository(session, tenant_id).get_or_404(role_id)
        held = sorted(await repository.role_permission_codes(session, tenant_id, [role.id]))
        before: dict[str, Any] = {"name": role.name, "permissions": held}
        codes = held if permissions is None else self._checked_codes(subject, permissions)
        if role.is_system and codes != held:
            raise Conflict(N_("The permissions of a built-in role cannot be changed."))
        if name is not None:
            role.name = name
        if codes != held:
            await repository.set_role_permissions(session, tenant_id, role.id, codes)
        after: dict[str, Any] = {"name": role.name, "permissions": codes}
        if after != before:
            await session.flush()
            await record(
                session, subject, "role.updated", EntityRef("role", role.id), before, after
            )
        return role

    async def delete_role(self, session: AsyncSession, subject: AuthSubject, role_id: UUID) -> None:
        """A system role, one given to anybody (`details.users` lists them, to reassign
        first) or one a group gives (`details.groups`, to take it off first) is 409; its
        hierarchy edges go with it."""
        tenant_id = subject.tenant_id
        role = await RoleRepository(session, tenant_id).get_or_404(role_id)
        if role.is_system:
            raise Conflict(N_("A built-in role cannot be deleted."), details={"role": role.code})
        holders = await repository.role_holders(session, tenant_id, role.id)
        if holders:
            raise Conflict(
                N_("This role is in use: give its users another role first."),
                details={"users": [{"id": str(uid), "email": email} for uid, email in holders]},
            )
        if giving := await repository_groups.groups_giving_role(session, tenant_id, role.id):
            raise Conflict(
                N_("Groups give this role to their members: take it off those groups first."),
                details={"groups": giving},
            )
        codes = sorted(await repository.role_permission_codes(session, tenant_id, [role.id]))
        before = {"code": role.code, "name": role.name, "permissions": codes}
        await session.delete(role)
        await session.flush()
        await record(session, subject, "role.deleted", EntityRef("role", role_id), before, None)

    @staticmethod
    def _checked_codes(subject: AuthSubject, permissions: Sequence[str]) -> list[str]:
        """The codes sorted and deduplicated; 422 for unknown ones, 403 for ones the
        caller does not hold (nobody hands out rights they lack)."""
        codes = sorted(set(permissions))
        if unknown := [c for c in codes if c not in PERMISSIONS]:
            raise ValidationFailed.unknown(
                "permissions", N_("Choose permissions from the list."), unknown
            )
        if missing := sorted(set(codes) - subject.permissions):
            raise PermissionDenied(details={"permissions": missing})
        return codes

    async def hierarchy(
        self, session: AsyncSession, subject: AuthSubject
    ) -> list[tuple[RoleHierarchy, Role, Role]]:
        """Every edge of the role tree with its parent and child roles."""
        tenant_id = subject.tenant_id
        edges = await repository.hierarchy_edges(session, tenant_id)
        roles = {
            role.id: role for role, _ in await repository.roles_with_user_counts(session, tenant_id)
        }
        return [(e, roles[e.parent_role_id], roles[e.child_role_id]) for e in edges]

    async def add_edge(
        self, session: AsyncSession, subject: AuthSubject, parent_id: UUID, child_id: UUID
    ) -> tuple[RoleHierarchy, Role, Role]:
        """Place `parent_id` directly above `child_id`: the parent's holders then hold
        the child's permissions too (inheritance) and, with a `subtree` scope, see its
        holders' records. A role not in the tenant → 422 on its field; the same role twice
        → 422; an existing edge → 409; an edge closing a cycle → 409 with `details.cycle`,
        the role codes from the parent round to itself; a child carrying (itself or below
        it) a code the caller lacks → 403."""
        tenant_id = subject.tenant_id
        repo = RoleRepository(session, tenant_id)
        parent, child = await repo.get(parent_id), await repo.get(child_id)
        errors = {}
        if parent is None:
            errors["parent_role_id"] = N_("Choose a role of your organisation.")
        if child is None:
            errors["child_role_id"] = N_("Choose a role of your organisation.")
        if parent is not None and parent_id == child_id:
            errors["child_role_id"] = N_("A role cannot be placed under itself.")
        if errors or parent is None or child is None:
            raise ValidationFailed(errors)
        await repository.lock_hierarchy(session, tenant_id)
        edges = await repository.hierarchy_edges(session, tenant_id)
        if any(e.parent_role_id == parent.id and e.child_role_id == child.id for e in edges):
            raise Conflict(N_("This role is already directly under that one."))
        if path := _path_down(edges, child.id, parent.id):
            codes = await _role_codes(session, tenant_id)
            raise Conflict(
                N_("This would make the role hierarchy go round in a circle."),
                details={"cycle": [parent.code, *(codes[r] for r in path)]},
            )
        # The parent's holders gain everything the child carries, directly or below it:
        # nobody hands out rights they lack (403, as for a role's own codes).
        inherited = await repository.codes_by_role(
            session, tenant_id, sorted(_reachable(_below(edges), child.id))
        )
        if missing := sorted(
            {c for codes in inherited.values() for c in codes} - subject.permissions
        ):
            raise PermissionDenied(details={"permissions": missing})
        edge = RoleHierarchyRepository(session, tenant_id).add(
            RoleHierarchy(parent_role_id=parent.id, child_role_id=child.id)
        )
        await session.flush()
        await record(
            session, subject, "role.hierarchy.added", EntityRef("role_hierarchy", edge.id), None,
            {"parent": parent.code, "child": child.code},
        )  # fmt: skip
        return edge, parent, child

    async def remove_edge(self, session: AsyncSession, subject: AuthSubject, edge_id: UUID) -> None:
        """Another tenant's (or no) edge is 404."""
        tenant_id = subject.tenant_id
        edge = await RoleHierarchyRepository(session, tenant_id).get_or_404(edge_id)
        repo = RoleRepository(session, tenant_id)
        parent = await repo.get_or_404(edge.parent_role_id)
        child = await repo.get_or_404(edge.child_role_id)
        await session.delete(edge)
        await session.flush()
        await record(
            session, subject, "role.hierarchy.removed", EntityRef("role_hierarchy", edge_id),
            {"parent": parent.code, "child": child.code}, None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Grant:
    """Why a user holds a permission: `roles`, the roles they hold that grant it
    (directly or through the roles below them); `inherited_from`, the roles below that
    carry it (empty when every granting role carries it itself); `via_groups`, the codes
    of the active groups through which one of `roles` is held (empty when every
    granting role is the user's own)."""

    roles: list[str]
    inherited_from: list[str]
    via_groups: list[str]


async def _role_codes(session: AsyncSession, tenant_id: TenantId) -> dict[UUID, str]:
    """Every role's code by id."""
    return {
        role.id: role.code
        for role, _ in await repository.roles_with_user_counts(session, tenant_id)
    }


def _below(edges: Sequence[RoleHierarchy]) -> dict[UUID, list[UUID]]:
    children: dict[UUID, list[UUID]] = {}
    for edge in edges:
        children.setdefault(edge.parent_role_id, []).append(edge.child_role_id)
    return children


def _reachable(children: dict[UUID, list[UUID]], start: UUID) -> set[UUID]:
    """`start` and every role below it, at any depth (ends on a cycle)."""
    seen = {start}
    frontier = [start]
    while frontier:
        frontier = [c for node in frontier for c in children.get(node, []) if c not in seen]
        seen.update(frontier)
    return seen


def _path_down(edges: Sequence[RoleHierarchy], start: UUID, goal: UUID) -> list[UUID]:
    """Role ids from `start` down the edges to `goal` (both included), or `[]` when
    `goal` is not below `start`. Breadth first, so the path is a shortest one."""
    children: dict[UUID, list[UUID]] = {}
    for edge in edges:
        children.setdefault(edge.parent_role_id, []).append(edge.child_role_id)
    came_from: dict[UUID, UUID | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[UUID] = []
        for node in frontier:
            if node == goal:
                path: list[UUID] = []
                step: UUID | None = node
                while step is not None:
                    path.append(step)
                    step = came_from[step]
                return path[::-1]
            for nxt in children.get(node, []):
                if nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    return []


async def roles_in_use(session: AsyncSession, tenant_id: TenantId) -> int:
    """Usage of `roles.max`: every role of the tenant, the seeded ones included."""
    return await repository.count_rows(session, tenant_id, Role)


async def subordinate_user_ids(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> set[UUID]:
    """Users holding a role below one of `user_id`'s roles in the hierarchy, at any
    depth; never `user_id` itself (a `subtree` scope adds "me" on its own). Backs the
    `subtree` record visibility scope; moving a user between roles counts at once."""
    return await repository_visibility.user_ids_of(
        session, repository_visibility.subordinate_user_ids_query(tenant_id, user_id)
    )


async def group_peer_user_ids(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> set[UUID]:
    """Users sharing an active group with `user_id`; never `user_id` itself. Backs the
    `group` record visibility scope."""
    return await repository_visibility.user_ids_of(
        session, repository_visibility.group_peer_user_ids_query(tenant_id, user_id)
    )


access = AccessService()


def register() -> None:
    """Wire the access module into the kernel."""
    register_permission_query(permission_codes_of)
    register_scope_source(scopes.SOURCE)
    register_nav(
        NavItem("roles", N_("Roles"), "/admin/roles", "role.read", icon="shield",
                section="admin", order=86)
    )  # fmt: skip
    register_nav(
        NavItem("groups", N_("Groups"), "/admin/groups", "user.read", icon="users",
                section="admin", feature="rbac.groups", order=87)
    )  # fmt: skip
    register_nav(
        NavItem("entitlements", N_("Entitlements"), "/admin/entitlements", "entitlements.view",
                icon="settings", section="admin", order=89)
    )  # fmt: skip
    register_override_layer(overrides.override_layer)
    register_usage_source(ROLES_MAX, roles_in_use)
    register_usage_source(GROUPS_MAX, groups_in_use)
