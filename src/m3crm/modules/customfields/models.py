"""`custom_field_defs` and `custom_field_values`.

Invariants:
- a definition's `code` is unique per `(tenant, entity_type)` and never changes (values
  and segment filters refer to it through the definition's id);
- a record has at most one value per definition;
- for a definition marked `is_unique`, `unique_key` (the canonical text of the value) is
  unique per definition: the database refuses a second record with the same value.
"""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import TenantModel, string_enum, tenant_fk


class EntityType(enum.StrEnum):
    """Record types that may carry custom fields (all listed now, so adding a module
    needs no migration of the check constraint)."""

    CONTACT = "contact"
    COMPANY = "company"
    DEAL = "deal"
    LEAD = "lead"
    UNIT = "unit"


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"
    SELECT = "select"
    MULTISELECT = "multiselect"


class CustomFieldDef(TenantModel):
    __tablename__ = "custom_field_defs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "entity_type", "code"),
        Index(None, "tenant_id", "entity_type", "position"),
    )

    entity_type: Mapped[EntityType] = mapped_column(string_enum(EntityType, "entity_type"))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[FieldType] = mapped_column(string_enum(FieldType, "field_type"))
    options: Mapped[list[str]] = mapped_column(JSONB, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    is_unique: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class CustomFieldValue(TenantModel):
    __tablename__ = "custom_field_values"
    __table_args__ = (
        tenant_fk("field_id", "custom_field_defs", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "entity_type", "entity_id", "field_id"),
        Index(
            "uq_custom_field_values_unique_key",
            "tenant_id",
            "field_id",
            "unique_key",
            unique=True,
            postgresql_where=text("unique_key IS NOT NULL"),
        ),
        Index(None, "tenant_id", "field_id", "value_text"),
    )

    entity_type: Mapped[EntityType] = mapped_column(string_enum(EntityType, "entity_type"))
    entity_id: Mapped[UUID]
    field_id: Mapped[UUID]
    value: Mapped[Any] = mapped_column(JSONB)
    value_text: Mapped[str | None] = mapped_column(String(500))
    """Canonical text of a scalar value (folded for text), what filters compare."""
    unique_key: Mapped[str | None] = mapped_column(String(500))
