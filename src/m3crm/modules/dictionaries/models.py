"""Coded dictionary tables (Appendix C §9 pattern).

Invariants:
- `tenant_id IS NULL` rows are global defaults (seeded by migration, read-only to tenants:
  `enable_dictionary_rls`); tenant rows are visible to their tenant only;
- `code` is unique per tenant (`UNIQUE (tenant_id, code)`) and among global rows (a partial
  unique index, since NULLs are distinct); the service also refuses a tenant code that a
  global row already uses (409), so a visible code always names one entry;
- `code` never changes; entries are deactivated, not deleted (profiles keep the code).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from m3crm.kernel.db.base import Base, TimestampMixin
from m3crm.kernel.ids import new_id


class DictionaryEntry(TimestampMixin, Base):
    """One coded entry: a later dictionary is a subclass naming only `__tablename__`."""

    __abstract__ = True

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        table = cls.__tablename__
        return (
            UniqueConstraint("tenant_id", "code"),
            Index(
                f"uq_{table}_global_code",
                "code",
                unique=True,
                postgresql_where=text("tenant_id IS NULL"),
            ),
        )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)

    @declared_attr
    @classmethod
    def tenant_id(cls) -> Mapped[UUID | None]:
        return mapped_column(ForeignKey("tenants.id"), nullable=True)

    code: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(200))
    label_ar: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    @property
    def is_global(self) -> bool:
        return self.tenant_id is None

    def label(self, locale: str) -> str:
        return self.label_ar if locale == "ar" else self.label_en


class JobTitleCode(DictionaryEntry):
    __tablename__ = "job_title_codes"


class DepartmentCode(DictionaryEntry):
    __tablename__ = "department_codes"
