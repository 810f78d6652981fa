"""Queries of entitlement overrides (`entitlement_overrides`): one level's rows,
replacing them, and every row that applies to a user."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.modules.access.models import (
    EntitlementOverride,
    Group,
    GroupMember,
    OverrideLevel,
)


def _target(level: OverrideLevel, target_id: UUID | None) -> ColumnElement[bool]:
    return (
        (EntitlementOverride.level == level)
        & (
            EntitlementOverride.group_id == target_id
            if level is OverrideLevel.GROUP
            else EntitlementOverride.group_id.is_(None)
        )
        & (
            EntitlementOverride.user_id == target_id
            if level is OverrideLevel.USER
            else EntitlementOverride.user_id.is_(None)
        )
    )


async def overrides_at(
    session: AsyncSession, tenant_id: TenantId, level: OverrideLevel, target_id: UUID | None
) -> list[EntitlementOverride]:
    """The override rows of one level and target (the tenant, a group or a user)."""
    stmt = (
        select(EntitlementOverride)
        .where(EntitlementOverride.tenant_id == tenant_id, _target(level, target_id))
        .order_by(EntitlementOverride.key)
    )
    return list((await session.execute(stmt)).scalars())


async def replace_overrides(
    session: AsyncSession,
    tenant_id: TenantId,
    level: OverrideLevel,
    target_id: UUID | None,
    features: dict[str, bool],
    limits: dict[str, int],
) -> None:
    """Make the rows of one level and target exactly `features` and `limits`."""
    await session.execute(
        delete(EntitlementOverride).where(
            EntitlementOverride.tenant_id == tenant_id, _target(level, target_id)
        )
    )
    await session.flush()
    group_id = target_id if level is OverrideLevel.GROUP else None
    user_id = target_id if level is OverrideLevel.USER else None
    rows: list[tuple[str, bool | None, int | None]]
    rows = [(key, enabled, None) for key, enabled in features.items()]
    rows += [(key, None, value) for key, value in limits.items()]
    session.add_all(
        EntitlementOverride(
            tenant_id=tenant_id,
            level=level,
            group_id=group_id,
            user_id=user_id,
            key=key,
            enabled=enabled,
            limit_value=value,
        )
        for key, enabled, value in rows
    )
    await session.flush()


async def overrides_for(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID | None
) -> list[tuple[EntitlementOverride, str | None]]:
    """The rows that apply to `user_id` (tenant rows, rows of the active groups the user
    is in, the user's rows), each with its group's code; only tenant rows without a user."""
    applies = EntitlementOverride.level == OverrideLevel.TENANT
    if user_id is not None:
        groups = select(GroupMember.group_id).where(
            GroupMember.tenant_id == tenant_id, GroupMember.user_id == user_id
        )
        applies = (
            applies
            | (
                (EntitlementOverride.level == OverrideLevel.USER)
                & (EntitlementOverride.user_id == user_id)
            )
            | (
                (EntitlementOverride.level == OverrideLevel.GROUP)
                & EntitlementOverride.group_id.in_(groups)
                & Group.is_active.is_(True)
            )
        )
    stmt = (
        select(EntitlementOverride, Group.code)
        .outerjoin(
            Group,
            (Group.tenant_id == EntitlementOverride.tenant_id)
            & (Group.id == EntitlementOverride.group_id),
        )
        .where(EntitlementOverride.tenant_id == tenant_id, applies)
        .order_by(Group.code, EntitlementOverride.key)
    )
    return [(row, code) for row, code in (await session.execute(stmt)).all()]
