"""`tenants` (platform table) and `users` (tenant table)."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from sqlalchemy import Computed, Enum, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import CITEXT
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import Base, TenantModel, TimestampMixin
from m3crm.kernel.ids import new_id


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class Tenant(TimestampMixin, Base):
    """A customer organisation (agency, developer, brokerage). Platform table: no
    `tenant_id`; RLS lets tenant traffic see only its own row."""

    __tablename__ = "tenants"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    status: Mapped[TenantStatus] = mapped_column(
        _enum(TenantStatus, "tenant_status"), default=TenantStatus.ACTIVE
    )
    default_locale: Mapped[str] = mapped_column(String(8), default="en")
    currency: Mapped[str] = mapped_column(String(3), default="EGP")


class User(TenantModel):
    """A person who signs in to one tenant. E-mail is unique per tenant, case-insensitive.

    `search_text` is the folded name and e-mail (`m3crm.kernel.text`), computed by the
    database; migration 0006 indexes it for global search (`ix_users_text_search`). It is
    deferred: only search reads it."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    email: Mapped[str] = mapped_column(CITEXT)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[UserStatus] = mapped_column(
        _enum(UserStatus, "user_status"), default=UserStatus.ACTIVE
    )
    is_verified: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(
        Text(collation="C"),
        Computed("m3crm_fold((((full_name)::text || ' '::text) || (email)::text))", persisted=True),
        deferred=True,
    )
