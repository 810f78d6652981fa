"""Entitlement overrides (issue 7; spec §3A.3, §3A.4, §3A.6, §12.5): reading and
replacing them per level, resolving a user's effective entitlements with the source of
every key, and laying those out layer by layer (`precedence_table`, for the screen).

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
from typing import Literal
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
from m3crm.modules.access import repository_groups, repository_overrides
from m3crm.modules.access.models import EntitlementOverride, OverrideLevel
from m3crm.modules.access.repository_groups import GroupRepository

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
    return resolve(plan, await repository_overrides.overrides_for(session, tenant_id, user_id))[0]


async def effective_entitlements(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> tuple[Entitlements, dict[str, str]]:
    """The user's entitlements and, per feature or limit key, where its value comes from:
    `plan:<code>`, `tenant override`, `group:<code>` or `user override`."""
    plan = await load_plan_entitlements(session, tenant_id)
    return resolve(plan, await repository_overrides.overrides_for(session, tenant_id, user_id))


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
    rows = await repository_overrides.overrides_at(session, subject.tenant_id, level, target_id)
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


async def check_writable(
    session: AsyncSession, subject: AuthSubject, level: OverrideLevel, target_id: UUID | None
) -> None:
    """What `set_overrides` checks before the keys: another tenant's (or a missing) group or
    user is a 404, then a plan without `admin.entitlementsOverrides` is a 402 (the plan's
    own value: no override can grant it). For callers that parse their input in between,
    so that they answer in the same order."""
    await _check_target(session, subject, level, target_id)
    (await load_plan_entitlements(session, subject.tenant_id)).require_feature(OVERRIDES_FEATURE)


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
    await check_writable(session, subject, level, target_id)
    _validate(overrides)
    before = await get_overrides(session, subject, level, target_id)
    await repository_overrides.replace_overrides(
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


Value = bool | int
"""A feature's state or a limit's count."""


@dataclass(frozen=True, slots=True)
class PrecedenceRow:
    """One key through the layers for one user. A layer's `None` means "no override at
    that level"; `groups` follows `PrecedenceTable.groups`. `effective` is what the user
    gets, `source` says where it comes from exactly as `effective_entitlements` does, and
    `winner` names the column holding it: `plan`, `tenant`, `group:<code>` or `user`."""

    key: str
    plan: Value
    tenant: Value | None
    groups: tuple[Value | None, ...]
    user: Value | None
    effective: Value
    source: str
    winner: str


@dataclass(frozen=True, slots=True)
class PrecedenceTable:
    """Every feature and limit key of the catalog for one user, layer by layer. `groups`
    holds (id, code, name) of the user's active groups, by code (inactive groups do not
    apply, so they are not shown)."""

    plan_code: str | None
    groups: tuple[tuple[UUID, str, str], ...]
    features: tuple[PrecedenceRow, ...]
    limits: tuple[PrecedenceRow, ...]


def _winner(source: str) -> str:
    if source == TENANT_SOURCE:
        return "tenant"
    if source == USER_SOURCE:
        return "user"
    return "plan" if source.startswith("plan:") else source


def _layers(
    rows: list[tuple[EntitlementOverride, str | None]],
) -> dict[tuple[OverrideLevel, str | None], dict[str, Value]]:
    """The override values by (level, group code) and key."""
    layers: dict[tuple[OverrideLevel, str | None], dict[str, Value]] = {}
    for row, code in rows:
        value = row.enabled if row.enabled is not None else row.limit_value
        assert value is not None  # the table's `feature_xor_limit` check
        group = code if row.level is OverrideLevel.GROUP else None
        layers.setdefault((row.level, group), {})[row.key] = value
    return layers


async def precedence_table(
    session: AsyncSession, subject: AuthSubject, user_id: UUID
) -> PrecedenceTable:
    """`user_id`'s entitlements with every layer that made them (the "precedence preview"
    of the Entitlements screen). Another tenant's (or a missing) user is a 404. The
    effective values and sources are `resolve`'s, so the preview cannot disagree with
    what `require_feature` / `require_limit` enforce."""
    await check_user(session, user_id)
    tenant_id = subject.tenant_id
    plan = await load_plan_entitlements(session, tenant_id)
    rows = await repository_overrides.overrides_for(session, tenant_id, user_id)
    found, reasons = resolve(plan, rows)
    groups = tuple(await repository_groups.active_groups_of_user(session, tenant_id, user_id))
    layers = _layers(rows)
    tenant = layers.get((OverrideLevel.TENANT, None), {})
    user = layers.get((OverrideLevel.USER, None), {})
    by_group = [layers.get((OverrideLevel.GROUP, code), {}) for _, code, _ in groups]

    def row(key: str, kind: Literal["feature", "limit"]) -> PrecedenceRow:
        planned: Value
        effective: Value
        if kind == "feature":
            planned, effective = key in plan.features, key in found.features
        else:
            planned, effective = plan.limits.get(key, 0), found.limits.get(key, 0)
        return PrecedenceRow(
            key=key,
            plan=planned,
            tenant=tenant.get(key),
            groups=tuple(layer.get(key) for layer in by_group),
            user=user.get(key),
            effective=effective,
            source=reasons[key],
            winner=_winner(reasons[key]),
        )

    return PrecedenceTable(
        plan_code=plan.plan_code,
        groups=groups,
        features=tuple(row(key, "feature") for key in sorted(FEATURES)),
        limits=tuple(row(key, "limit") for key in sorted(LIMIT_KEYS)),
    )
