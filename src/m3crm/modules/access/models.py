"""`roles`, `role_permissions`, `user_roles` (spec §1 data model)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import TenantModel, tenant_fk


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
