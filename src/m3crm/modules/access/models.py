"""`roles`, `role_permissions`, `user_roles` (spec §1 data model); `groups`,
`group_members` and `role_hierarchy` (spec §3A.3)."""

from __future__ import annotations

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
