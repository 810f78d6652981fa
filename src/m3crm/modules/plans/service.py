"""Entitlements of a tenant, and subscribing a tenant to a plan."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.entitlements import (
    Entitlements,
    register_entitlement_loader,
    register_usage_recorder,
)
from m3crm.kernel.ids import TenantId
from m3crm.modules.plans.models import TenantPlan
from m3crm.modules.plans.repository import (
    active_plan_features,
    add_to_monthly_counter,
    current_usage,
    plan_id_by_code,
)


class PlanService:
    async def entitlements(self, session: AsyncSession, tenant_id: TenantId) -> Entitlements:
        """No active plan row → empty entitlements, which deny every check."""
        code, rows = await active_plan_features(session, tenant_id)
        if code is None:
            return Entitlements()
        return Entitlements(
            plan_code=code,
            features=frozenset(f for f, limit in rows if limit is None),
            limits={f: limit for f, limit in rows if limit is not None},
            usage=await current_usage(session, tenant_id),
        )

    async def subscribe(self, session: AsyncSession, tenant_id: TenantId, plan_code: str) -> None:
        plan = await plan_id_by_code(session, plan_code)
        if plan is None:
            raise ValueError(f"unknown plan {plan_code!r}")
        session.add(TenantPlan(tenant_id=tenant_id, plan_id=plan.id, started_at=datetime.now(UTC)))
        await session.flush()


plan = PlanService()


def register() -> None:
    register_entitlement_loader(plan.entitlements)
    register_usage_recorder(add_to_monthly_counter)
