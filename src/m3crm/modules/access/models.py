"""`roles`, `role_permissions`, `user_roles` (spec §1 data model); `groups`,
`group_members`, `group_roles` (spec §12.4) and `role_hierarchy` (spec §3A.3);
`entitlement_overrides` (spec §3A.3: `entitlements_overrides_tenant|group|user` as one
table with a `level`)."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import TenantModel, string_enum, tenant_fk
from m3crm.kernel.visibility import Scope


class Role(TenantModel):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    is_system: Mapped[bool] = mapped_column(default=False)


class RolePermission(TenantModel):
    __tablename__ = "role_permissions"
    __table_args__ = (
        tenant_fk("role_id", "roles", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "role_id", "permission_code"),
    )

    role_id: Mapped[UUID]
    permission_code: Mapped[str] = mapped_column(String(100))


class UserRole(TenantModel):
    __tablename__ = "user_roles"
    __table_args__ = (
        tenant_fk("role_id", "roles", ondelete="CASCADE"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "user_id", "role_id"),
    )

    user_id: Mapped[UUID]
    role_id: Mapped[UUID]


class Group(TenantModel):
    """A team of tenant users; `code` is unique per tenant and never changes."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)


class GroupMember(TenantModel):
    """A user in a group, at most once; goes with the group or the user."""

    __tablename__ = "group_members"
    __table_args__ = (
        tenant_fk("group_id", "groups", ondelete="CASCADE"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "group_id", "user_id"),
        Index(None, "tenant_id", "user_id"),
    )

    group_id: Mapped[UUID]
    user_id: Mapped[UUID]
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class GroupRole(TenantModel):
    """A role the group gives its members: every member of an *active* group holds it
    for as long as they are a member (read at each request, never copied onto the user).
    At most once per group; goes with the group or the role."""

    __tablename__ = "group_roles"
    __table_args__ = (
        tenant_fk("group_id", "groups", ondelete="CASCADE"),
        tenant_fk("role_id", "roles", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "group_id", "role_id"),
        Index(None, "tenant_id", "role_id"),
    )

    group_id: Mapped[UUID]
    role_id: Mapped[UUID]


class RoleHierarchy(TenantModel):
    """An edge of the role tree: `parent_role_id` is above `child_role_id`.

    The database refuses a self-edge and a duplicate pair; longer cycles are refused by
    the service before insert (they need a graph walk).
    """

    __tablename__ = "role_hierarchy"
    __table_args__ = (
        tenant_fk("parent_role_id", "roles", ondelete="CASCADE"),
        tenant_fk("child_role_id", "roles", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "parent_role_id", "child_role_id"),
        CheckConstraint("parent_role_id <> child_role_id", name="no_self_edge"),
        Index(None, "tenant_id", "child_role_id"),
    )

    parent_role_id: Mapped[UUID]
    child_role_id: Mapped[UUID]


class RoleRecordScope(TenantModel):
    """The visibility scope a role grants for one record type (`kernel.visibility`); no
    row means `all`."""

    __tablename__ = "role_record_scopes"
    __table_args__ = (
        tenant_fk("role_id", "roles", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "role_id", "record_type"),
    )

    role_id: Mapped[UUID]
    record_type: Mapped[str] = mapped_column(String(40))
    scope: Mapped[Scope] = mapped_column(string_enum(Scope, "scope"))


class OverrideLevel(enum.StrEnum):
    TENANT = "tenant"
    GROUP = "group"
    USER = "user"


class EntitlementOverride(TenantModel):
    """One overridden feature (`enabled`) or limit (`limit_value`) at one level: the whole
    tenant, one group (`group_id`) or one user (`user_id`); goes with its group or user.

    Exactly one of `enabled` / `limit_value` is set, and the level says which of
    `group_id` / `user_id` is (neither for `tenant`). Unique per (level, target, key);
    NULLS NOT DISTINCT makes the tenant level (both ids null) unique too.
    """

    __tablename__ = "entitlement_overrides"
    __table_args__ = (
        tenant_fk("group_id", "groups", ondelete="CASCADE"),
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint(
            "tenant_id", "level", "group_id", "user_id", "key", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint(
            "(level = 'tenant' AND group_id IS NULL AND user_id IS NULL)"
            " OR (level = 'group' AND group_id IS NOT NULL AND user_id IS NULL)"
            " OR (level = 'user' AND user_id IS NOT NULL AND group_id IS NULL)",
            name="level_target",
        ),
        CheckConstraint("(enabled IS NULL) <> (limit_value IS NULL)", name="feature_xor_limit"),
        CheckConstraint("limit_value IS NULL OR limit_value >= 0", name="limit_not_negative"),
    )

    level: Mapped[OverrideLevel] = mapped_column(string_enum(OverrideLevel, "override_level"))
    group_id: Mapped[UUID | None]
    user_id: Mapped[UUID | None]
    key: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool | None]
    limit_value: Mapped[int | None]
