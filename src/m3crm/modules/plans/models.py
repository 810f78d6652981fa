"""`plans`, `plan_features` (platform tables) and `tenant_plans`, `usage_counters`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import Base, TenantModel, TimestampMixin
from m3crm.kernel.ids import new_id


class Plan(TimestampMixin, Base):
    """Platform reference data, synced from `plan_catalog` by `m3crm migrate`."""

    __tablename__ = "plans"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    tier: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True)


class PlanFeature(Base):
    """A feature flag (`limit_value` NULL) or a limit (`limit_value` set) of a plan."""

    __tablename__ = "plan_features"
    __table_args__ = (UniqueConstraint("plan_id", "feature"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    plan_id: Mapped[UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(100))
    limit_value: Mapped[int | None] = mapped_column(BigInteger)


class TenantPlan(TenantModel):
    """The tenant's subscription; `billing_provider` is 'dev' until Stripe arrives."""

    __tablename__ = "tenant_plans"

    plan_id: Mapped[UUID] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    billing_provider: Mapped[str] = mapped_column(String(20), default="dev")
    external_customer_id: Mapped[str | None] = mapped_column(String(120))
    external_sub_id: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]


class UsageCounter(TenantModel):
    """Usage of a metered key in a period (NULL period = lifetime, e.g. seats)."""

    __tablename__ = "usage_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "key", "period_start"),)

    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
