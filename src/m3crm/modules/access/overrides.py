"""Entitlement overrides (issue 7; spec §3A.3, §3A.4, §3A.6, §12.5): reading and
replacing them per level, and resolving a user's effective entitlements with the source of
every key.

Precedence, lowest to highest: the plan, the tenant override, the group overrides, the
user override. Among the user's groups (active ones only):

- a limit takes the *largest* value any group sets;
- a feature is enabled when *any* group enables it; it is disabled by groups only when
  every group overriding it disables it (a group disabling never beats one enabling).

A user override beats everything. Nothing is cached: the kernel's `require_feature` and
`require_limit` resolve on every request, so a change takes effect on the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import Entitlements, load_plan_entitlements
from m3crm.kernel.errors import NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.plan_catalog import FEATURES, LIMIT_KEYS
from m3crm.kernel.tenancy.repository import user_by_id
from m3crm.modules.access import repository
from m3crm.modules.access.models import EntitlementOverride, OverrideLevel
from m3crm.modules.access.repository import GroupRepository

# The feature that gates the overrides API itself: overriding it could lock the tenant's
# admins out of undoing the override, so it follows the plan only.
OVERRIDES_FEATURE = "admin.entitlementsOverrides"
TENANT_SOURCE = "tenant override"
USER_SOURCE = "user override"


@dataclass(frozen=True, slots=True)
class OverrideSet:
    features: dict[str, bool]
    limits: dict[str, int]


def _plan_source(plan: Entitlements) -> str:
    return f"plan:{plan.plan_code}" if plan.plan_code else "plan:none"


def resolve(
    plan: Entitlements, rows: list[tuple[EntitlementOverride, str | None]]
) -> tuple[Entitlements, dict[str, str]]:
    """Apply `rows` over `plan` by precedence; the result and each key's source."""
    features = set(plan.features)
    limits = dict(plan.limits)
    source = _plan_source(plan)
    reasons = dict.fromkeys(sorted(FEATURES | LIMIT_KEYS | features | set(limits)), source)

    def apply(row: EntitlementOverride, why: str) -> None:
        if row.enabled is not None:
            (features.add if row.enabled else features.discard)(row.key)
        elif row.limit_value is not None:
            limits[row.key] = row.limit_value
        reasons[row.key] = why

    for row, _ in rows:
        if row.level is OverrideLevel.TENANT:
            apply(row, TENANT_SOURCE)
    by_key: dict[str, list[tuple[EntitlementOverride, str | None]]] = {}
    for row, code in rows:
        if row.level is OverrideLevel.GROUP:
            by_key.setdefault(row.key, []).append((row, code))
    for group_rows in by_key.values():
        # Rows come ordered by group code, so ties go to the first code.
        if group_rows[0][0].enabled is not None:
            winner = next(((r, c) for r, c in group_rows if r.enabled), group_rows[0])
        else:
            winner = max(group_rows, key=lambda rc: rc[0].limit_value or 0)
        apply(winner[0], f"group:{winner[1]}")
    for row, _ in rows:
        if row.level is OverrideLevel.USER:
            apply(row, USER_SOURCE)
    return replace(plan, features=frozenset(features), limits=limits), reasons


async def override_layer(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID | None, plan: Entitlements
) -> Entitlements:
    """The kernel's `OverrideLayer` (registered by the access module)."""
    return resolve(plan, await repository.overrides_for(session, tenant_id, user_id))[0]


async def effective_entitlements(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> tuple[Entitlements, dict[str, str]]:
    """The user's entitlements and, per feature or limit key, where its value comes from:
    `plan:<code>`, `tenant override`, `group:<code>` or `user override`."""
    plan = await load_plan_entitlements(session, tenant_id)
    return resolve(plan, await repository.overrides_for(session, tenant_id, user_id))


async def _check_target(
    session: AsyncSession, subject: AuthSubject, level: OverrideLevel, target_id: UUID | None
) -> None:
    """Another tenant's (or a missing) group or user is a 404."""
    if level is OverrideLevel.GROUP:
        assert target_id is not None
        await GroupRepository(session, subject.tenant_id).get_or_404(target_id)
    elif level is OverrideLevel.USER:
        assert target_id is not None
        if await user_by_id(session, target_id) is None:
            raise NotFound()


async def check_user(session: AsyncSession, user_id: UUID) -> None:
    if await user_by_id(session, user_id) is None:
        raise NotFound()


async def get_overrides(
    session: AsyncSession, subject: AuthSubject, level: OverrideLevel, target_id: UUID | None
) -> OverrideSet:
    await _check_target(session, subject, level, target_id)
    rows = await repository.overrides_at(session, subject.tenant_id, level, target_id)
    return OverrideSet(
        features={r.key: r.enabled for r in rows if r.enabled is not None},
        limits={r.key: r.limit_value for r in rows if r.limit_value is not None},
    )


def _validate(overrides: OverrideSet) -> None:
    errors: dict[str, str] = {}
    unknown_features = sorted(set(overrides.features) - FEATURES)
    if unknown_features or OVERRIDES_FEATURE in overrides.features:
        errors["features"] = N_("There is no such feature, or it cannot be overridden.")
    if sorted(set(overrides.limits) - LIMIT_KEYS):
        errors["limits"] = N_("There is no such limit.")
    if errors:
        raise ValidationFailed(errors)


async def set_overrides(
    session: AsyncSession,
    subject: AuthSubject,
    level: OverrideLevel,
    target_id: UUID | None,
    overrides: OverrideSet,
) -> OverrideSet:
    """Replace the overrides of one level and target (an empty set removes them all).
    Another tenant's group or user is a 404, then the *plan* must include
    `admin.entitlementsOverrides` (402), then unknown keys are a 422. Audited
    `entitlement.override.changed` with before and after. Effective on the next request."""
    await _check_target(session, subject, level, target_id)
    (await load_plan_entitlements(session, subject.tenant_id)).require_feature(OVERRIDES_FEATURE)
    _validate(overrides)
    before = await get_overrides(session, subject, level, target_id)
    await repository.replace_overrides(
        session, subject.tenant_id, level, target_id, overrides.features, overrides.limits
    )
    after = await get_overrides(session, subject, level, target_id)
    if after != before:
        entity = EntityRef(f"entitlement_overrides.{level.value}", target_id or subject.tenant_id)
        await record(
            session, subject, "entitlement.override.changed", entity,
            {"features": before.features, "limits": before.limits},
            {"features": after.features, "limits": after.limits},
        )  # fmt: skip
    return after
