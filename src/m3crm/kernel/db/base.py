"""Declarative bases. Tenant-owned tables use `TenantModel`; platform tables use `Base`."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, Enum, ForeignKey, ForeignKeyConstraint, MetaData, func
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from m3crm.kernel.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Root of every mapped class; one MetaData with a stable constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {UUID: PgUUID(as_uuid=True), datetime: DateTime(timezone=True)}


class TimestampMixin:
    """`created_at` / `updated_at`, set by the database clock and read back on flush
    (`eager_defaults`), so async code never lazy-loads an expired timestamp."""

    __mapper_args__ = {"eager_defaults": True}

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class TenantKeyed(Base):
    """A tenant-owned row: primary key `(tenant_id, id)`, id a UUIDv7.

    Invariants (checked by the schema guard): `tenant_id` is NOT NULL, leads the primary
    key, every reference to another tenant row is a composite foreign key (see
    `tenant_fk`), and the table has RLS enabled and forced (migration helper
    `enable_tenant_rls`). Fetch by id only with the tenant: `session.get(M, (tenant, id))`.
    """

    __abstract__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[UUID]:
        return mapped_column(
            PgUUID(as_uuid=True),
            ForeignKey("tenants.id"),
            primary_key=True,
            sort_order=-20,
            nullable=False,
        )

    @declared_attr
    def id(cls) -> Mapped[UUID]:
        return mapped_column(PgUUID(as_uuid=True), primary_key=True, default=new_id, sort_order=-10)


class TenantModel(TimestampMixin, TenantKeyed):
    """A tenant-owned row with `created_at` / `updated_at` (the usual case)."""

    __abstract__ = True


def tenant_fk(
    columns: str | list[str],
    target: str,
    *,
    target_columns: list[str] | None = None,
    ondelete: str | None = None,
    name: str | None = None,
) -> ForeignKeyConstraint:
    """A composite foreign key `(tenant_id, <columns>) → target(tenant_id, id)`.

    This is how the database itself refuses a row of tenant A pointing at a row of B.
    """
    local = [columns] if isinstance(columns, str) else columns
    remote = target_columns or ["id"]
    kwargs: dict[str, Any] = {}
    if ondelete:
        kwargs["ondelete"] = ondelete
    if name:
        kwargs["name"] = name
    return ForeignKeyConstraint(
        ["tenant_id", *local],
        [f"{target}.tenant_id", *(f"{target}.{c}" for c in remote)],
        **kwargs,
    )


def string_enum(cls: type[enum.StrEnum], name: str) -> Enum:
    """A VARCHAR(20) with a CHECK constraint of `cls`'s values: no PostgreSQL enum type to
    create, alter or drop in migrations when a value is added."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )
