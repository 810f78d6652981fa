"""Request and response bodies of the RBAC API (spec §1.4 RBAC, §3A.4, §12.5).

Patch bodies have every field optional and `null` means "leave as is"; ids in bodies are
resolved inside the caller's tenant by the service (422 on the field when not found).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from m3crm.kernel.inputs import StorableModel
from m3crm.kernel.visibility import Scope

RoleCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=120, pattern=r"^[^\x00-\x1f]*$"
    ),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
PermissionCodes = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=500)]


class RoleOut(BaseModel):
    id: UUID
    code: str
    name: str
    is_system: bool
    user_count: int


class PermissionOut(BaseModel):
    code: str
    area: str
    description: str


class GrantedPermissionOut(PermissionOut):
    """A permission the user holds: `granted_by`, the codes of the roles they hold that
    grant it (directly or by inheritance); `inherited_from`, the codes of the roles below
    those in the hierarchy that carry it (empty when granted directly); `via_groups`, the
    codes of the active groups through which one of those roles is held (empty when the
    roles are the user's own)."""

    granted_by: list[str]
    inherited_from: list[str] = []
    via_groups: list[str] = []


class EffectivePermissionsOut(BaseModel):
    user_id: UUID
    permissions: list[GrantedPermissionOut]


class RolePermissionsOut(BaseModel):
    role_id: UUID
    code: str
    permissions: list[PermissionOut]


class UserRolesIn(StorableModel):
    """Role codes to give and to take away; either list may be empty."""

    assign: list[RoleCode] = Field(default_factory=list, max_length=50)
    remove: list[RoleCode] = Field(default_factory=list, max_length=50)


class UserRolesOut(BaseModel):
    user_id: UUID
    roles: list[str]


class RoleIn(StorableModel):
    """A custom role; every code in `permissions` must be in the registry."""

    code: RoleCode
    name: Name
    permissions: PermissionCodes = Field(default_factory=list)


class RolePatch(StorableModel):
    """A system role keeps its permissions (409 when they are sent changed)."""

    name: Name | None = None
    permissions: PermissionCodes | None = None


class GroupIn(StorableModel):
    code: RoleCode
    name: Name
    description: Description = ""
    is_active: bool = True


class GroupPatch(StorableModel):
    """The code never changes; every other field is optional."""

    name: Name | None = None
    description: Description | None = None
    is_active: bool | None = None


class GroupOut(BaseModel):
    id: UUID
    code: str
    name: str
    description: str
    is_active: bool
    member_count: int
    created_at: datetime


class GroupMemberOut(BaseModel):
    user_id: UUID
    added_at: datetime


class GroupDetailOut(GroupOut):
    """`roles`: the codes of the roles the group gives its members."""

    members: list[GroupMemberOut]
    roles: list[str] = []


class GroupRolesIO(StorableModel):
    """The codes of the roles a group gives its members; PUT replaces the whole set (an
    empty list takes every role off the group)."""

    roles: list[RoleCode] = Field(default_factory=list, max_length=50)


class GroupMembersIn(StorableModel):
    """Users to add; ones already in the group are left as they are. An empty list is
    refused by the service (after the group is found), not here."""

    user_ids: list[UUID] = Field(default_factory=list, max_length=200)


class HierarchyEdgeIn(StorableModel):
    """Place `parent_role_id` directly above `child_role_id`."""

    parent_role_id: UUID
    child_role_id: UUID


class HierarchyEdgeOut(BaseModel):
    id: UUID
    parent_role_id: UUID
    parent_code: str
    child_role_id: UUID
    child_code: str


class RoleScopesIO(StorableModel):
    """Per record type, the scope the role grants: own, group, subtree or all; a type left
    out (or an empty body) grants `all`."""

    scopes: dict[Annotated[str, StringConstraints(max_length=40)], Scope] = Field(
        default_factory=dict, max_length=50
    )


OverrideKey = Annotated[str, StringConstraints(max_length=100)]


class EntitlementOverridesIO(StorableModel):
    """The overrides of one level (tenant, a group or a user): features switched on or
    off, and limits set to a count; a key left out follows the level below. PUT replaces
    the whole set (an empty body removes every override of that level)."""

    features: dict[OverrideKey, bool] = Field(default_factory=dict, max_length=200)
    limits: dict[OverrideKey, Annotated[int, Field(ge=0, le=2**31 - 1)]] = Field(
        default_factory=dict, max_length=200
    )


class EffectiveFeatureOut(BaseModel):
    key: str
    enabled: bool
    source: str


class EffectiveLimitOut(BaseModel):
    key: str
    value: int
    unlimited: bool
    source: str


class EffectiveEntitlementsOut(BaseModel):
    """Every feature and limit key of the catalog for one user, with where its value comes
    from: `plan:<code>`, `tenant override`, `group:<code>` or `user override`."""

    user_id: UUID
    plan_code: str | None
    features: list[EffectiveFeatureOut]
    limits: list[EffectiveLimitOut]
