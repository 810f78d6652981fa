"""Plan entitlements: features (402 `PLAN_REQUIRED`) and limits (422 `LIMIT_REACHED`).

The plans module registers an `EntitlementLoader`; without a plan row for the tenant
the snapshot is empty, so every feature and limit check denies (never allows).

The access module registers an `OverrideLayer` (entitlement overrides, Section 3A §6):
`load_entitlements` is the tenant's view (plan + tenant overrides), and
`load_user_entitlements` one user's view (plan < tenant < group < user overrides).
Nothing is cached: a changed override takes effect on the next request.

Which view a check reads:
- what a *person* uses (a screen, 2FA by SMS, search of a record type, a run type,
  private contacts, sending on a channel) reads that person's view, so adding someone to
  a group with an override changes what they may do at once (Section 3A §9);
- what the *workspace* shares reads the tenant's view: pools counted across the tenant
  (`users.max` seats, `roles.max`, `groups.max`, record counts such as `contacts.max`) and
  the workspace's own schema and vocabularies (custom fields, coded dictionaries), which
  every member sees alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.errors import LimitReached, MonthlyCapReached, PlanRequired
from m3crm.kernel.ids import TenantId

if TYPE_CHECKING:
    from m3crm.kernel.audit import Actor
    from m3crm.kernel.db.session import Database


@dataclass(frozen=True, slots=True)
class Entitlements:
    """A tenant's plan as of now: enabled features, limits, and current usage."""

    plan_code: str | None = None
    features: frozenset[str] = frozenset()
    limits: Mapping[str, int] = field(default_factory=dict)
    usage: Mapping[str, int] = field(default_factory=dict)

    def require_feature(self, feature: str) -> None:
        if feature not in self.features:
            raise PlanRequired(feature)

    def require_limit(self, key: str, *, adding: int = 1) -> None:
        """Refuse when `usage + adding` would exceed the limit; an absent limit is 0."""
        limit = self.limits.get(key, 0)
        if self.usage.get(key, 0) + adding > limit:
            raise LimitReached(key, limit)


EntitlementLoader = Callable[[AsyncSession, TenantId], Awaitable[Entitlements]]
UsageRecorder = Callable[[AsyncSession, TenantId, str, int], Awaitable[int]]


async def _no_plan(session: AsyncSession, tenant_id: TenantId) -> Entitlements:
    return Entitlements()


_loader: EntitlementLoader = _no_plan


def register_entitlement_loader(loader: EntitlementLoader) -> None:
    global _loader
    _loader = loader


OverrideLayer = Callable[
    [AsyncSession, TenantId, UUID | None, Entitlements], Awaitable[Entitlements]
]


async def _no_overrides(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID | None, plan: Entitlements
) -> Entitlements:
    return plan


_overrides: OverrideLayer = _no_overrides


def register_override_layer(layer: OverrideLayer) -> None:
    """Install what applies overrides over the plan; `user_id` `None` means the tenant's
    own view (tenant overrides only)."""
    global _overrides
    _overrides = layer


async def load_plan_entitlements(session: AsyncSession, tenant_id: TenantId) -> Entitlements:
    """The plan alone, without any override."""
    return await _loader(session, tenant_id)


async def load_entitlements(session: AsyncSession, tenant_id: TenantId) -> Entitlements:
    """The tenant's entitlements: its plan with the tenant-level overrides applied."""
    return await _overrides(session, tenant_id, None, await _loader(session, tenant_id))


async def load_user_entitlements(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID | None
) -> Entitlements:
    """One user's entitlements: plan < tenant override < group overrides < user override;
    `user_id` `None` (a system actor acting for nobody) is the tenant's view."""
    return await _overrides(session, tenant_id, user_id, await _loader(session, tenant_id))


async def _no_metering(session: AsyncSession, tenant_id: TenantId, key: str, amount: int) -> int:
    raise RuntimeError("no usage recorder registered (the plans module is not loaded)")


_recorder: UsageRecorder = _no_metering


def register_usage_recorder(recorder: UsageRecorder) -> None:
    global _recorder
    _recorder = recorder


async def record_monthly_usage(
    session: AsyncSession, tenant_id: TenantId, key: str, *, amount: int = 1
) -> int:
    """Add `amount` to this month's counter `key` atomically; the value after adding.

    Runs in the caller's transaction: a rolled-back send leaves the counter unchanged,
    which is what makes "counted exactly once per message" hold.
    """
    return await _recorder(session, tenant_id, key, amount)


UsageSource = Callable[[AsyncSession, TenantId], Awaitable[int]]
UsageLock = Callable[[AsyncSession, TenantId], Awaitable[None]]
_sources: dict[str, UsageSource] = {}
_locks: dict[str, UsageLock] = {}


def register_usage_source(key: str, source: UsageSource, *, lock: UsageLock | None = None) -> None:
    """Let the module that owns the counted rows answer the live usage of limit `key`
    (e.g. `contacts.max` counts live contacts), so the plan screen shows it without a
    counter that could drift from the rows. `lock`, when given, serialises the key's
    checks within the tenant until the transaction ends. Idempotent per key."""
    _sources[key] = source
    if lock is not None:
        _locks[key] = lock


async def live_usage(session: AsyncSession, tenant_id: TenantId, key: str) -> int | None:
    """The usage of `key` from its registered source; `None` when it has none."""
    source = _sources.get(key)
    return None if source is None else await source(session, tenant_id)


@asynccontextmanager
async def no_growth_past_limit(
    session: AsyncSession, tenant_id: TenantId, key: str
) -> AsyncIterator[None]:
    """Around a change whose *side effects* may raise `key`'s usage (a role given to a
    person or a group can make a seatless viewer hold a seat): 422 `LIMIT_REACHED` when,
    after the change, the usage grew and exceeds the tenant's limit. A workspace already
    over its limit may still make changes that do not add to it. The change runs in a
    savepoint, so a refusal leaves nothing behind even when the caller goes on. Takes the
    key's lock first, so concurrent changes count one after the other; without a usage
    source the change passes unchecked."""
    lock = _locks.get(key)
    if lock is not None:
        await lock(session, tenant_id)
    before = await live_usage(session, tenant_id, key)
    async with session.begin_nested():  # a refusal takes the change back with it
        yield
        if before is None:
            return
        await session.flush()
        after = await live_usage(session, tenant_id, key)
        if after is not None and after > before:
            limit = (await load_entitlements(session, tenant_id)).limits.get(key, 0)
            if after > limit:
                raise LimitReached(key, limit)


LimitReporter = Callable[["Database", "Actor", LimitReached], Awaitable[None]]
_limit_reporters: dict[str, LimitReporter] = {}


def register_limit_reporter(key: str, reporter: LimitReporter) -> None:
    """Let the module owning limit `key` record its refusals (the seats: audited
    `tenant.seat.limit_reached`, admins told). Idempotent per key."""
    _limit_reporters[key] = reporter


async def report_limit_refusal(database: Database, actor: Actor, refused: LimitReached) -> None:
    """Hand a refused limit to its reporter, if the key has one. The kernel's error
    handler calls it for every `LimitReached` an authenticated request ends with; a screen
    that catches the refusal to show it in place calls it itself. Reporters run in a
    transaction of their own (the refused request's rolls back) and never raise."""
    reporter = _limit_reporters.get(str(refused.details.get("key")))
    if reporter is not None:
        await reporter(database, actor, refused)


def require_monthly_cap(value_after: int, cap_key: str, entitlements: Entitlements) -> None:
    """Refuse (402 `LIMIT_REACHED`) when a counter has gone past the plan's monthly cap."""
    cap = entitlements.limits.get(cap_key, 0)
    if value_after > cap:
        raise MonthlyCapReached(cap_key, cap)
