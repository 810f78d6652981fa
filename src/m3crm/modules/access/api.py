"""JSON API of roles, role assignment, the role hierarchy and groups.

`/v1/admin/roles[/{id}]`, `/v1/admin/roles/hierarchy[/{edge_id}]`, `/v1/admin/users/{id}/roles`,
`/v1/admin/groups[/{id}[/members[/{user_id}]|/roles]]` (spec §3A.4, §12.4, §12.5). Group
routes need the plan feature `rbac.groups`, hierarchy routes `rbac.roleHierarchy`: a caller
without the permission is 403 first, then a plan without the feature is 402.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from m3crm.kernel.auth import AuthSubject, DbSession, Subject, require
from m3crm.kernel.entitlements import load_user_entitlements
from m3crm.kernel.errors import (
    Conflict,
    LimitReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.permission_codes import PERMISSIONS, PermissionDef
from m3crm.kernel.plan_catalog import LIMIT_KEYS, UNLIMITED
from m3crm.modules.access import overrides, scopes
from m3crm.modules.access.group_roles import group_roles
from m3crm.modules.access.groups import groups
from m3crm.modules.access.models import Group, GroupMember, OverrideLevel, Role, RoleHierarchy
from m3crm.modules.access.schemas import (
    EffectiveEntitlementsOut,
    EffectiveFeatureOut,
    EffectiveLimitOut,
    EffectivePermissionsOut,
    EntitlementOverridesIO,
    GrantedPermissionOut,
    GroupDetailOut,
    GroupIn,
    GroupMemberOut,
    GroupMembersIn,
    GroupOut,
    GroupPatch,
    GroupRolesIO,
    HierarchyEdgeIn,
    HierarchyEdgeOut,
    PermissionOut,
    RoleIn,
    RoleOut,
    RolePatch,
    RolePermissionsOut,
    RoleScopesIO,
    UserRolesIn,
    UserRolesOut,
)
from m3crm.modules.access.service import access

GROUPS_FEATURE = "rbac.groups"
HIERARCHY_FEATURE = "rbac.roleHierarchy"


def gated(code: str, feature: str) -> Callable[[AuthSubject, DbSession], Awaitable[AuthSubject]]:
    """Dependency: `require(code)` (401, 403), then the plan must include `feature` (402)."""
    permitted = require(code)

    async def dependency(subject: Subject, session: DbSession) -> AuthSubject:
        await permitted(subject)
        entitlements = await load_user_entitlements(session, subject.tenant_id, subject.user_id)
        entitlements.require_feature(feature)
        return subject

    dependency.__name__ = f"gated_{code.replace('.', '_')}"
    return dependency


RoleReader = Annotated[AuthSubject, Depends(require("role.read"))]
RoleAssigner = Annotated[AuthSubject, Depends(require("role.assign"))]
RoleManager = Annotated[AuthSubject, Depends(require("roles.manage"))]
HierarchyReader = Annotated[AuthSubject, Depends(gated("role.read", HIERARCHY_FEATURE))]
HierarchyManager = Annotated[
    AuthSubject, Depends(gated("roles.hierarchy.manage", HIERARCHY_FEATURE))
]
GroupReader = Annotated[AuthSubject, Depends(gated("user.read", GROUPS_FEATURE))]
GroupManager = Annotated[AuthSubject, Depends(gated("groups.manage", GROUPS_FEATURE))]
MemberManager = Annotated[AuthSubject, Depends(gated("groups.members.manage", GROUPS_FEATURE))]
# Reading overrides and effective entitlements needs `entitlements.view` ("See effective
# entitlements", Section 12 §6) and no feature; changing them needs
# `entitlements.overrides.manage` and the plan's `admin.entitlementsOverrides`.
EntitlementsReader = Annotated[AuthSubject, Depends(require("entitlements.view"))]
# The plan check runs in the service after the group / user is found (404 before 402).
OverridesManager = Annotated[AuthSubject, Depends(require("entitlements.overrides.manage"))]

router = APIRouter(
    tags=["access"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


def _edge(edge: RoleHierarchy, parent: Role, child: Role) -> HierarchyEdgeOut:
    return HierarchyEdgeOut(
        id=edge.id,
        parent_role_id=parent.id,
        parent_code=parent.code,
        child_role_id=child.id,
        child_code=child.code,
    )


@router.get(
    "/v1/admin/roles/hierarchy",
    response_model=list[HierarchyEdgeOut],
    responses=error_responses(PlanRequired),
)
async def list_hierarchy(session: DbSession, subject: HierarchyReader) -> list[HierarchyEdgeOut]:
    """Every parent → child edge of the role tree."""
    return [_edge(*found) for found in await access.hierarchy(session, subject)]


@router.post(
    "/v1/admin/roles/hierarchy",
    status_code=201,
    response_model=HierarchyEdgeOut,
    responses=error_responses(PlanRequired, Conflict),
)
async def add_hierarchy_edge(
    body: HierarchyEdgeIn, session: DbSession, subject: HierarchyManager
) -> HierarchyEdgeOut:
    """409 `CONFLICT` with `details.cycle` (role codes round the cycle) when the edge
    would close one. Audited as `role.hierarchy.added`."""
    return _edge(*await access.add_edge(session, subject, body.parent_role_id, body.child_role_id))


@router.delete(
    "/v1/admin/roles/hierarchy/{edge_id}",
    status_code=204,
    responses=error_responses(PlanRequired, NotFound),
)
async def remove_hierarchy_edge(
    edge_id: UUID, session: DbSession, subject: HierarchyManager
) -> Response:
    """Audited as `role.hierarchy.removed`."""
    await access.remove_edge(session, subject, edge_id)
    return Response(status_code=204)


def _role(role: Role, user_count: int) -> RoleOut:
    return RoleOut(
        id=role.id,
        code=role.code,
        name=role.name,
        is_system=role.is_system,
        user_count=user_count,
    )


@router.post(
    "/v1/admin/roles",
    status_code=201,
    response_model=RoleOut,
    responses=error_responses(Conflict, LimitReached),
)
async def create_role(body: RoleIn, session: DbSession, subject: RoleManager) -> RoleOut:
    """A custom role with codes from the registry (422 on `permissions` otherwise).
    Audited as `role.created`."""
    role = await access.create_role(
        session, subject, code=body.code, name=body.name, permissions=body.permissions
    )
    return _role(role, 0)


@router.patch(
    "/v1/admin/roles/{role_id}",
    response_model=RolePermissionsOut,
    responses=error_responses(NotFound, Conflict),
)
async def update_role(
    role_id: UUID, body: RolePatch, session: DbSession, subject: RoleManager
) -> RolePermissionsOut:
    """Rename and/or replace the codes; a system role's codes are fixed (409). Audited as
    `role.updated`."""
    await access.update_role(
        session, subject, role_id, name=body.name, permissions=body.permissions
    )
    role, codes = await access.role_permissions(session, subject, role_id)
    return RolePermissionsOut(
        role_id=role.id, code=role.code, permissions=[_permission(c) for c in codes]
    )


@router.delete(
    "/v1/admin/roles/{role_id}",
    status_code=204,
    responses=error_responses(NotFound, Conflict),
)
async def delete_role(role_id: UUID, session: DbSession, subject: RoleManager) -> Response:
    """409 for a system role, or one still held (`details.users`). Audited as
    `role.deleted`."""
    await access.delete_role(session, subject, role_id)
    return Response(status_code=204)


@router.get("/v1/admin/roles", response_model=list[RoleOut])
async def list_roles(session: DbSession, subject: RoleReader) -> list[RoleOut]:
    return [
        RoleOut(
            id=role.id,
            code=role.code,
            name=role.name,
            is_system=role.is_system,
            user_count=count,
        )
        for role, count in await access.list_roles(session, subject)
    ]


def _permission(code: str) -> PermissionOut:
    known = PERMISSIONS.get(code) or PermissionDef(code, "unknown", "")
    return PermissionOut(code=known.code, area=known.area, description=known.description)


@router.get(
    "/v1/admin/roles/{role_id}/permissions",
    response_model=RolePermissionsOut,
    responses=error_responses(NotFound),
)
async def role_permissions(
    role_id: UUID, session: DbSession, subject: RoleReader
) -> RolePermissionsOut:
    role, codes = await access.role_permissions(session, subject, role_id)
    return RolePermissionsOut(
        role_id=role.id, code=role.code, permissions=[_permission(c) for c in codes]
    )


@router.get(
    "/v1/admin/users/{user_id}/effective-permissions",
    response_model=EffectivePermissionsOut,
    responses=error_responses(NotFound),
)
async def effective_permissions(
    user_id: UUID, session: DbSession, subject: RoleReader
) -> EffectivePermissionsOut:
    """What the user may do now and why: each code with the roles that grant it."""
    granted = await access.effective_permissions(session, subject, user_id)
    return EffectivePermissionsOut(
        user_id=user_id,
        permissions=[
            GrantedPermissionOut(
                **_permission(code).model_dump(),
                granted_by=grant.roles,
                inherited_from=grant.inherited_from,
                via_groups=grant.via_groups,
            )
            for code, grant in granted.items()
        ],
    )


@router.get(
    "/v1/admin/roles/{role_id}/scopes",
    response_model=RoleScopesIO,
    responses=error_responses(NotFound),
)
async def get_role_scopes(role_id: UUID, session: DbSession, subject: RoleReader) -> RoleScopesIO:
    """The record visibility scope the role grants for each record type."""
    return RoleScopesIO(scopes=await scopes.role_scopes(session, subject, role_id))


@router.put(
    "/v1/admin/roles/{role_id}/scopes",
    response_model=RoleScopesIO,
    responses=error_responses(NotFound),
)
async def put_role_scopes(
    role_id: UUID, body: RoleScopesIO, session: DbSession, subject: RoleManager
) -> RoleScopesIO:
    """Replace the role's scopes (a type left out grants `all`); audited
    `role.scopes.changed`; effective on every user's next request."""
    return RoleScopesIO(scopes=await scopes.set_role_scopes(session, subject, role_id, body.scopes))


@router.post(
    "/v1/admin/users/{user_id}/roles",
    response_model=UserRolesOut,
    responses=error_responses(NotFound, Conflict),
)
async def change_user_roles(
    user_id: UUID, body: UserRolesIn, session: DbSession, subject: RoleAssigner
) -> UserRolesOut:
    """Audited as `role.assigned` / `role.removed` with the role codes before and after."""
    roles = await access.change_user_roles(
        session, subject, user_id, assign=body.assign, remove=body.remove
    )
    return UserRolesOut(user_id=user_id, roles=roles)


def _group(group: Group, member_count: int) -> GroupOut:
    return GroupOut(
        id=group.id,
        code=group.code,
        name=group.name,
        description=group.description,
        is_active=group.is_active,
        member_count=member_count,
        created_at=group.created_at,
    )


async def _group_detail(
    session: DbSession, subject: AuthSubject, group: Group, members: list[GroupMember]
) -> GroupDetailOut:
    _, given = await group_roles.roles(session, subject, group.id)
    return GroupDetailOut(
        **_group(group, len(members)).model_dump(),
        members=[GroupMemberOut(user_id=m.user_id, added_at=m.added_at) for m in members],
        roles=[role.code for role in given],
    )


GROUP_ERRORS = error_responses(PlanRequired, NotFound)


@router.get("/v1/admin/groups", response_model=list[GroupOut], responses=GROUP_ERRORS)
async def list_groups(session: DbSession, subject: GroupReader) -> list[GroupOut]:
    return [_group(g, n) for g, n in await groups.list_groups(session, subject)]


@router.post(
    "/v1/admin/groups",
    status_code=201,
    response_model=GroupDetailOut,
    responses=error_responses(PlanRequired, Conflict, LimitReached),
)
async def create_group(body: GroupIn, session: DbSession, subject: GroupManager) -> GroupDetailOut:
    """A taken code is 409; over `groups.max` is 422 `LIMIT_REACHED`. Audited as
    `group.created`."""
    group = await groups.create(
        session,
        subject,
        code=body.code,
        name=body.name,
        description=body.description,
        is_active=body.is_active,
    )
    return await _group_detail(session, subject, group, [])


@router.get("/v1/admin/groups/{group_id}", response_model=GroupDetailOut, responses=GROUP_ERRORS)
async def get_group(group_id: UUID, session: DbSession, subject: GroupReader) -> GroupDetailOut:
    return await _group_detail(session, subject, *await groups.detail(session, subject, group_id))


@router.patch("/v1/admin/groups/{group_id}", response_model=GroupDetailOut, responses=GROUP_ERRORS)
async def update_group(
    group_id: UUID, body: GroupPatch, session: DbSession, subject: GroupManager
) -> GroupDetailOut:
    """Audited as `group.updated`. Deactivating a group takes its roles from its members
    at once; reactivating gives them back."""
    await groups.update(session, subject, group_id, body.model_dump(exclude_unset=True))
    return await _group_detail(session, subject, *await groups.detail(session, subject, group_id))


@router.delete("/v1/admin/groups/{group_id}", status_code=204, responses=GROUP_ERRORS)
async def delete_group(group_id: UUID, session: DbSession, subject: GroupManager) -> Response:
    """Memberships and the roles it gives go with the group. Audited as `group.deleted`."""
    await groups.delete(session, subject, group_id)
    return Response(status_code=204)


@router.post(
    "/v1/admin/groups/{group_id}/members",
    response_model=GroupDetailOut,
    responses=GROUP_ERRORS,
)
async def add_group_members(
    group_id: UUID, body: GroupMembersIn, session: DbSession, subject: MemberManager
) -> GroupDetailOut:
    """Users already in the group stay; unknown users are 422 on `user_ids`; a group
    giving roles whose codes the caller lacks is 403. Audited as `group.members.changed`."""
    found = await groups.add_members(session, subject, group_id, body.user_ids)
    return await _group_detail(session, subject, *found)


@router.delete(
    "/v1/admin/groups/{group_id}/members/{user_id}", status_code=204, responses=GROUP_ERRORS
)
async def remove_group_member(
    group_id: UUID, user_id: UUID, session: DbSession, subject: MemberManager
) -> Response:
    """A user not in the group is 404. Audited as `group.members.changed`."""
    await groups.remove_member(session, subject, group_id, user_id)
    return Response(status_code=204)


@router.get(
    "/v1/admin/groups/{group_id}/roles", response_model=GroupRolesIO, responses=GROUP_ERRORS
)
async def get_group_roles(group_id: UUID, session: DbSession, subject: GroupReader) -> GroupRolesIO:
    """The codes of the roles the group gives its members (while it is active)."""
    _, given = await group_roles.roles(session, subject, group_id)
    return GroupRolesIO(roles=[role.code for role in given])


@router.put(
    "/v1/admin/groups/{group_id}/roles", response_model=GroupRolesIO, responses=GROUP_ERRORS
)
async def put_group_roles(
    group_id: UUID, body: GroupRolesIO, session: DbSession, subject: GroupManager
) -> GroupRolesIO:
    """Replace the roles the group gives; its members hold them from their next request.
    An unknown code or `super_admin` is 422 on `roles`; a role carrying (itself or below
    it) a code the caller lacks is 403 with `details.permissions`. Audited as
    `group.roles.changed`."""
    _, given = await group_roles.set_roles(session, subject, group_id, body.roles)
    return GroupRolesIO(roles=[role.code for role in given])


def _overrides_io(found: overrides.OverrideSet) -> EntitlementOverridesIO:
    return EntitlementOverridesIO(features=found.features, limits=found.limits)


def _overrides_in(body: EntitlementOverridesIO) -> overrides.OverrideSet:
    return overrides.OverrideSet(features=dict(body.features), limits=dict(body.limits))


@router.get("/v1/admin/entitlements/overrides/tenant", response_model=EntitlementOverridesIO)
async def get_tenant_overrides(
    session: DbSession, subject: EntitlementsReader
) -> EntitlementOverridesIO:
    """The tenant-level overrides (over the plan, for every user)."""
    found = await overrides.get_overrides(session, subject, OverrideLevel.TENANT, None)
    return _overrides_io(found)


@router.put("/v1/admin/entitlements/overrides/tenant", response_model=EntitlementOverridesIO)
async def put_tenant_overrides(
    body: EntitlementOverridesIO, session: DbSession, subject: OverridesManager
) -> EntitlementOverridesIO:
    """Replace the tenant-level overrides; audited `entitlement.override.changed`."""
    found = await overrides.set_overrides(
        session, subject, OverrideLevel.TENANT, None, _overrides_in(body)
    )
    return _overrides_io(found)


@router.get(
    "/v1/admin/entitlements/overrides/group/{group_id}",
    response_model=EntitlementOverridesIO,
    responses=error_responses(NotFound),
)
async def get_group_overrides(
    group_id: UUID, session: DbSession, subject: EntitlementsReader
) -> EntitlementOverridesIO:
    """The group's overrides (over the tenant's, for its members)."""
    found = await overrides.get_overrides(session, subject, OverrideLevel.GROUP, group_id)
    return _overrides_io(found)


@router.put(
    "/v1/admin/entitlements/overrides/group/{group_id}",
    response_model=EntitlementOverridesIO,
    responses=error_responses(NotFound),
)
async def put_group_overrides(
    group_id: UUID, body: EntitlementOverridesIO, session: DbSession, subject: OverridesManager
) -> EntitlementOverridesIO:
    """Replace the group's overrides; audited `entitlement.override.changed`."""
    found = await overrides.set_overrides(
        session, subject, OverrideLevel.GROUP, group_id, _overrides_in(body)
    )
    return _overrides_io(found)


@router.get(
    "/v1/admin/entitlements/overrides/user/{user_id}",
    response_model=EntitlementOverridesIO,
    responses=error_responses(NotFound),
)
async def get_user_overrides(
    user_id: UUID, session: DbSession, subject: EntitlementsReader
) -> EntitlementOverridesIO:
    """The user's own overrides (over everything else)."""
    found = await overrides.get_overrides(session, subject, OverrideLevel.USER, user_id)
    return _overrides_io(found)


@router.put(
    "/v1/admin/entitlements/overrides/user/{user_id}",
    response_model=EntitlementOverridesIO,
    responses=error_responses(NotFound),
)
async def put_user_overrides(
    user_id: UUID, body: EntitlementOverridesIO, session: DbSession, subject: OverridesManager
) -> EntitlementOverridesIO:
    """Replace the user's overrides; audited `entitlement.override.changed`."""
    found = await overrides.set_overrides(
        session, subject, OverrideLevel.USER, user_id, _overrides_in(body)
    )
    return _overrides_io(found)


async def _effective(
    session: DbSession, subject: AuthSubject, user_id: UUID
) -> EffectiveEntitlementsOut:
    await overrides.check_user(session, user_id)
    found, reasons = await overrides.effective_entitlements(session, subject.tenant_id, user_id)
    limit_keys = LIMIT_KEYS | set(found.limits)
    return EffectiveEntitlementsOut(
        user_id=user_id,
        plan_code=found.plan_code,
        features=[
            EffectiveFeatureOut(key=key, enabled=key in found.features, source=reasons[key])
            for key in sorted(reasons)
            if key not in limit_keys
        ],
        limits=[
            EffectiveLimitOut(
                key=key,
                value=found.limits.get(key, 0),
                unlimited=found.limits.get(key, 0) >= UNLIMITED,
                source=reasons[key],
            )
            for key in sorted(limit_keys)
        ],
    )


@router.get(
    "/v1/admin/entitlements/effective",
    response_model=EffectiveEntitlementsOut,
    responses=error_responses(NotFound),
)
async def effective_entitlements(
    session: DbSession,
    subject: EntitlementsReader,
    user_id: Annotated[UUID | None, Query(alias="userId")] = None,
) -> EffectiveEntitlementsOut:
    """The user's (default: the caller's) features and limits, each with its source."""
    return await _effective(session, subject, user_id or subject.user_id)


@router.get(
    "/v1/admin/users/{user_id}/effective-entitlements",
    response_model=EffectiveEntitlementsOut,
    responses=error_responses(NotFound),
)
async def user_effective_entitlements(
    user_id: UUID, session: DbSession, subject: EntitlementsReader
) -> EffectiveEntitlementsOut:
    """The user's features and limits, each with its source (plan, tenant, group, user)."""
    return await _effective(session, subject, user_id)
