"""Entitlements of a tenant, and subscribing a tenant to a plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import (
    Entitlements,
    live_usage,
    register_entitlement_loader,
    register_usage_recorder,
)
from m3crm.kernel.errors import NotFound
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.plan_catalog import UNLIMITED
from m3crm.modules.plans import repository
from m3crm.modules.plans.models import Plan, TenantPlan
from m3crm.modules.plans.repository import (
    add_to_monthly_counter,
    current_usage,
    plan_id_by_code,
    plan_snapshot,
)
from m3crm.web.nav import NavItem, register_nav

MONTHLY_CAP = ".monthlyCap"


@dataclass(frozen=True, slots=True)
class LimitUsage:
    key: str
    limit: int
    usage: int
    unlimited: bool


@dataclass(frozen=True, slots=True)
class PlanOverview:
    code: str | None
    name: str | None
    tier: int | None
    features: list[str]
    limits: list[LimitUsage]


@dataclass(frozen=True, slots=True)
class LimitChange:
    """`None` for a limit the plan does not have (which denies: an absent limit is 0)."""

    key: str
    old: int | None
    new: int | None
    usage: int


@dataclass(frozen=True, slots=True)
class PlanPreview:
    current_plan: str | None
    target_plan: str
    features_gained: list[str]
    features_lost: list[str]
    limit_changes: list[LimitChange]
    exceeded: list[LimitChange]


async def _usage(session: AsyncSession, tenant_id: TenantId, keys: set[str]) -> dict[str, int]:
    """Live usage per limit key: a monthly cap reads this month's `<channel>.sent`
    counter; a key with a registered usage source (the module owning the rows: seats from
    identity, `contacts.max` from contacts...) asks it; any other key reads its own
    counter (0 if none)."""
    counters = await current_usage(session, tenant_id)
    usage: dict[str, int] = {}
    for key in keys:
        if key.endswith(MONTHLY_CAP):
            usage[key] = counters.get(key.removesuffix(MONTHLY_CAP) + ".sent", 0)
        elif (counted := await live_usage(session, tenant_id, key)) is not None:
            usage[key] = counted
        else:
            usage[key] = counters.get(key, 0)
    return usage


def _split(rows: list[tuple[str, int | None]]) -> tuple[set[str], dict[str, int]]:
    return {f for f, v in rows if v is None}, {f: v for f, v in rows if v is not None}


class PlanService:
    async def entitlements(self, session: AsyncSession, tenant_id: TenantId) -> Entitlements:
        """No active plan row → empty entitlements, which deny every check."""
        snapshot = await plan_snapshot(session, tenant_id)
        if snapshot.plan_code is None:
            return Entitlements()
        rows = snapshot.features
        return Entitlements(
            plan_code=snapshot.plan_code,
            features=frozenset(f for f, limit in rows if limit is None),
            limits={f: limit for f, limit in rows if limit is not None},
            usage=snapshot.usage,
        )

    async def subscribe(self, session: AsyncSession, tenant_id: TenantId, plan_code: str) -> None:
        plan = await plan_id_by_code(session, plan_code)
        if plan is None:
            raise ValueError(f"unknown plan {plan_code!r}")
        session.add(TenantPlan(tenant_id=tenant_id, plan_id=plan.id, started_at=datetime.now(UTC)))
        await session.flush()

    async def change(
        self, session: AsyncSession, actor: Actor, plan_code: str
    ) -> tuple[str | None, str]:
        """Move the actor's tenant to `plan_code` from now on: the active subscription
        ends (kept as history), a new one starts, `tenant.plan.changed` is audited.
        Answers (previous plan code, new plan code); the same plan changes nothing.
        Raises `ValueError` for an unknown plan (an operator's typo, not user input)."""
        if await plan_id_by_code(session, plan_code) is None:
            raise ValueError(f"unknown plan {plan_code!r}")
        current = await repository.active_plan(session, actor.tenant_id)
        previous = current.code if current else None
        if previous == plan_code:
            return previous, plan_code
        await repository.end_active_subscriptions(session, actor.tenant_id, datetime.now(UTC))
        await self.subscribe(session, actor.tenant_id, plan_code)
        await audit.record(
            session,
            actor,
            "tenant.plan.changed",
            EntityRef("tenant", actor.tenant_id),
            before={"plan": previous},
            after={"plan": plan_code},
        )
        return previous, plan_code

    async def _current(
        self, session: AsyncSession, tenant_id: TenantId
    ) -> tuple[Plan | None, set[str], dict[str, int]]:
        current = await repository.active_plan(session, tenant_id)
        if current is None:
            return None, set(), {}
        features, limits = _split(await repository.plan_features(session, current.id))
        return current, features, limits

    async def overview(self, session: AsyncSession, subject: AuthSubject) -> PlanOverview:
        """The current plan with its features, limits and live usage per limit key."""
        current, features, limits = await self._current(session, subject.tenant_id)
        usage = await _usage(session, subject.tenant_id, set(limits))
        return PlanOverview(
            code=current.code if current else None,
            name=current.name if current else None,
            tier=current.tier if current else None,
            features=sorted(features),
            limits=[
                LimitUsage(key=key, limit=limit, usage=usage[key], unlimited=limit >= UNLIMITED)
                for key, limit in sorted(limits.items())
            ],
        )

    async def preview(
        self, session: AsyncSession, subject: AuthSubject, plan_code: str
    ) -> PlanPreview:
        """What moving to `plan_code` would change; reads only, changes nothing.
        An unknown or retired plan is a 404."""
        target = await plan_id_by_code(session, plan_code)
        if target is None or not target.is_active:
            raise NotFound()
        current, old_features, old_limits = await self._current(session, subject.tenant_id)
        new_features, new_limits = _split(await repository.plan_features(session, target.id))
        keys = set(old_limits) | set(new_limits)
        usage = await _usage(session, subject.tenant_id, keys)
        changes = [
            LimitChange(key=k, old=old_limits.get(k), new=new_limits.get(k), usage=usage[k])
            for k in sorted(keys)
            if old_limits.get(k) != new_limits.get(k)
        ]
        exceeded = [
            LimitChange(key=k, old=old_limits.get(k), new=new_limits.get(k), usage=usage[k])
            for k in sorted(keys)
            if usage[k] > new_limits.get(k, 0)
        ]
        return PlanPreview(
            current_plan=current.code if current else None,
            target_plan=target.code,
            features_gained=sorted(new_features - old_features),
            features_lost=sorted(old_features - new_features),
            limit_changes=changes,
            exceeded=exceeded,
        )


plan = PlanService()


def register() -> None:
    register_entitlement_loader(plan.entitlements)
    register_usage_recorder(add_to_monthly_counter)
    register_nav(
        NavItem("plan", N_("Plan"), "/admin/plan", "plan.view", icon="chart",
                section="admin", feature="plan.view", order=84)
    )  # fmt: skip
