"""Changing a workspace's plan (`m3crm plan-set`): the old subscription ends as history,
features and limits follow at once, and the change is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.entitlements import load_entitlements
from m3crm.modules.plans.service import plan
from tests.conftest import World
from tests.modules.access.helpers import audit_rows


async def test_change_moves_the_workspace_and_keeps_history(
    session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    actor = SystemActor(world.a.id)
    assert "notifications.sms" in (await load_entitlements(session, world.a.id)).features
    assert await plan.change(session, actor, "DevFree") == ("DevPro", "DevFree")
    after = await load_entitlements(session, world.a.id)
    assert after.plan_code == "DevFree" and "notifications.sms" not in after.features
    assert after.limits["users.max"] == 3
    history = (
        await session.execute(
            text(
                "SELECT p.code, tp.status, tp.ends_at IS NOT NULL FROM tenant_plans tp"
                " JOIN plans p ON p.id = tp.plan_id WHERE tp.tenant_id = :t ORDER BY tp.started_at"
            ),
            {"t": world.a.id},
        )
    ).all()
    assert [tuple(row) for row in history] == [
        ("DevPro", "ended", True),
        ("DevFree", "active", False),
    ]
    rows = await audit_rows(session, world.a.id, "tenant.plan.changed")
    assert [(r.before_data, r.after_data) for r in rows][-1] == (
        {"plan": "DevPro"},
        {"plan": "DevFree"},
    )


async def test_same_plan_changes_nothing_and_unknown_plan_is_refused(
    session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    actor = SystemActor(world.a.id)
    before = len(await audit_rows(session, world.a.id, "tenant.plan.changed"))
    assert await plan.change(session, actor, "DevPro") == ("DevPro", "DevPro")
    assert len(await audit_rows(session, world.a.id, "tenant.plan.changed")) == before
    with pytest.raises(ValueError, match="Gold"):
        await plan.change(session, actor, "Gold")
    assert (await load_entitlements(session, world.a.id)).plan_code == "DevPro"
