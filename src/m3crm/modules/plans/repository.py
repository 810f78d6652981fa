"""Every query on the plan tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.modules.plans.models import Plan, PlanFeature, TenantPlan, UsageCounter


async def active_plan_features(
    session: AsyncSession, tenant_id: TenantId
) -> tuple[str | None, list[tuple[str, int | None]]]:
    """The active plan's code and its (feature, limit) rows; `(None, [])` without one."""
    now = datetime.now(UTC)
    stmt = (
        select(Plan.code, PlanFeature.feature, PlanFeature.limit_value)
        .select_from(TenantPlan)
        .join(Plan, Plan.id == TenantPlan.plan_id)
        .outerjoin(PlanFeature, PlanFeature.plan_id == Plan.id)
        .where(
            TenantPlan.tenant_id == tenant_id,
            TenantPlan.status == "active",
            Plan.is_active.is_(True),
            or_(TenantPlan.ends_at.is_(None), TenantPlan.ends_at > now),
        )
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None, []
    return rows[0][0], [(r[1], r[2]) for r in rows if r[1] is not None]


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


async def plan_id_by_code(session: AsyncSession, code: str) -> Plan | None:
    return (await session.execute(select(Plan).where(Plan.code == code))).scalar_one_or_none()
