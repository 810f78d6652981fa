"""Every query on the plan tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    DateTime,
    String,
    Uuid,
    and_,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId, new_id
from m3crm.modules.plans.models import Plan, PlanFeature, TenantPlan, UsageCounter

_TENANT_ID: BindParameter[UUID] = bindparam("tenant_id", type_=Uuid)
_NOW: BindParameter[datetime] = bindparam("now", type_=DateTime(timezone=True))
_FEATURE, _USAGE = "feature", "usage"

_SNAPSHOT: CompoundSelect[Any] = union_all(
    select(
        literal(_FEATURE).label("kind"),
        Plan.code.label("plan_code"),
        PlanFeature.feature.label("key"),
        PlanFeature.limit_value.label("value"),
    )
    .select_from(TenantPlan)
    .join(Plan, Plan.id == TenantPlan.plan_id)
    .outerjoin(PlanFeature, PlanFeature.plan_id == Plan.id)
    .where(
        TenantPlan.tenant_id == _TENANT_ID,
        TenantPlan.status == "active",
        Plan.is_active.is_(True),
        or_(TenantPlan.ends_at.is_(None), TenantPlan.ends_at > _NOW),
    ),
    select(
        literal(_USAGE),
        null().cast(String),
        UsageCounter.key,
        UsageCounter.value,
    ).where(
        UsageCounter.tenant_id == _TENANT_ID,
        or_(
            UsageCounter.period_start.is_(None),
            and_(UsageCounter.period_start <= _NOW, UsageCounter.period_end > _NOW),
        ),
    ),
)
"""The active plan's (feature, limit) rows and the current usage counters, in one
round trip (every dispatch and every plan-gated request reads both); built once."""


@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    """`plan_code` None: no active plan (then `features` is empty too)."""

    plan_code: str | None
    features: list[tuple[str, int | None]]
    usage: dict[str, int]


async def plan_snapshot(session: AsyncSession, tenant_id: TenantId) -> PlanSnapshot:
    """The active plan's code and (feature, limit) rows, and the live usage counters."""
    rows = (
        await session.execute(_SNAPSHOT, {"tenant_id": tenant_id, "now": datetime.now(UTC)})
    ).all()
    plan_code: str | None = None
    features: list[tuple[str, int | None]] = []
    usage: dict[str, int] = {}
    for kind, code, key, value in rows:
        if kind == _USAGE:
            usage[key] = int(value)
            continue
        plan_code = code
        if key is not None:
            features.append((key, None if value is None else int(value)))
    return PlanSnapshot(plan_code, features, usage)


async def current_usage(session: AsyncSession, tenant_id: TenantId) -> dict[str, int]:
    now = datetime.now(UTC)
    stmt = select(UsageCounter.key, UsageCounter.value).where(
        UsageCounter.tenant_id == tenant_id,
        or_(
            UsageCounter.period_start.is_(None),
            and_(UsageCounter.period_start <= now, UsageCounter.period_end > now),
        ),
    )
    return {key: int(value) for key, value in (await session.execute(stmt)).all()}


async def end_active_subscriptions(
    session: AsyncSession, tenant_id: TenantId, at: datetime
) -> None:
    """Close every active subscription of the tenant at `at` (kept as history)."""
    await session.execute(
        update(TenantPlan)
        .where(TenantPlan.tenant_id == tenant_id, TenantPlan.status == "active")
        .values(status="ended", ends_at=at)
    )


async def plan_id_by_code(session: AsyncSession, code: str) -> Plan | None:
    return (await session.execute(select(Plan).where(Plan.code == code))).scalar_one_or_none()


async def add_to_monthly_counter(
    session: AsyncSession, tenant_id: TenantId, key: str, amount: int
) -> int:
    """Upsert this calendar month's (UTC) counter row and return its new value."""
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    stmt = (
        insert(UsageCounter)
        .values(
            tenant_id=tenant_id,
            id=new_id(),
            key=key,
            value=amount,
            period_start=start,
            period_end=end,
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "key", "period_start"],
            set_={"value": UsageCounter.value + amount, "updated_at": func.now()},
        )
        .returning(UsageCounter.value)
    )
    return int((await session.execute(stmt)).scalar_one())


async def active_plan(session: AsyncSession, tenant_id: TenantId) -> Plan | None:
    """The tenant's current plan row (the newest active subscription)."""
    now = datetime.now(UTC)
    stmt = (
        select(Plan)
        .join(TenantPlan, TenantPlan.plan_id == Plan.id)
        .where(
            TenantPlan.tenant_id == tenant_id,
            TenantPlan.status == "active",
            Plan.is_active.is_(True),
            or_(TenantPlan.ends_at.is_(None), TenantPlan.ends_at > now),
        )
        .order_by(TenantPlan.started_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def plan_features(session: AsyncSession, plan_id: UUID) -> list[tuple[str, int | None]]:
    stmt = select(PlanFeature.feature, PlanFeature.limit_value).where(
        PlanFeature.plan_id == plan_id
    )
    return [(f, v) for f, v in (await session.execute(stmt)).all()]
