"""`/v1/admin/plan` and `/v1/admin/plan/preview`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import get_settings_dep
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.entitlements import record_monthly_usage
from m3crm.kernel.plan_catalog import PLANS
from m3crm.kernel.tenancy.models import UserStatus
from tests.conftest import World, error_code
from tests.factories import make_user


def limits(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in body["limits"]}


async def test_plan_with_features_limits_and_live_usage(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    await record_monthly_usage(session, world.a.id, "sms.sent", amount=7)
    r = await client.get("/v1/admin/plan", headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == "DevPro" and body["name"] == "Dev Pro"
    assert set(body["features"]) == PLANS["DevPro"].features
    found = limits(body)
    assert set(found) == set(PLANS["DevPro"].limits)
    assert found["users.max"]["limit"] == 25 and found["users.max"]["usage"] >= 3
    assert found["sms.monthlyCap"] == {
        "key": "sms.monthlyCap",
        "limit": 500,
        "usage": 7,
        "unlimited": False,
    }
    assert found["contacts.max"]["unlimited"] is True


async def test_seat_usage_counts_users_not_deactivated(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    before = limits((await client.get("/v1/admin/plan", headers=world.headers(world.a))).json())
    await bind_tenant(session, world.a.id, None)
    await make_user(session, tenant_id=world.a.id, email="seat@alpha.test")
    await make_user(
        session, tenant_id=world.a.id, email="gone@alpha.test", status=UserStatus.DEACTIVATED
    )
    after = limits((await client.get("/v1/admin/plan", headers=world.headers(world.a))).json())
    assert after["users.max"]["usage"] == before["users.max"]["usage"] + 1


async def test_preview_downgrade_lists_changes_and_overages(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    await make_user(session, tenant_id=world.a.id, email="extra@alpha.test")
    r = await client.post(
        "/v1/admin/plan/preview", headers=world.headers(world.a), json={"plan_code": "DevFree"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["current_plan"] == "DevPro" and body["target_plan"] == "DevFree"
    assert body["features_gained"] == []
    assert set(body["features_lost"]) == PLANS["DevPro"].features - PLANS["DevFree"].features
    changes = {c["key"]: c for c in body["limit_changes"]}
    assert changes["users.max"]["old"] == 25 and changes["users.max"]["new"] == 3
    assert changes["sms.monthlyCap"]["new"] is None
    assert "roles.max" in changes and "contacts.customFields.max" in changes
    exceeded = {c["key"] for c in body["exceeded"]}
    assert "users.max" in exceeded  # 4 seats in use, DevFree allows 3
    # Nothing changed.
    r = await client.get("/v1/admin/plan", headers=world.headers(world.a))
    assert r.json()["code"] == "DevPro"
    tenant_plans = await session.execute(
        text("SELECT count(*) FROM tenant_plans WHERE tenant_id = :t"), {"t": world.a.id}
    )
    assert tenant_plans.scalar_one() == 1


async def test_preview_upgrade_gains_features(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        "/v1/admin/plan/preview", headers=world.headers(world.b), json={"plan_code": "DevPro"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["current_plan"] == "DevFree" and body["features_lost"] == []
    assert "twofa.sms" in body["features_gained"] and body["exceeded"] == []


async def test_preview_is_404_in_production(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    production = world.settings.model_copy(update={"environment": "production"})
    app.dependency_overrides[get_settings_dep] = lambda: production
    try:
        r = await client.post(
            "/v1/admin/plan/preview", headers=world.headers(world.a), json={"plan_code": "DevFree"}
        )
    finally:
        del app.dependency_overrides[get_settings_dep]
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert (await client.get("/v1/admin/plan", headers=world.headers(world.a))).status_code == 200


@pytest.mark.parametrize(
    "body", [{}, {"plan_code": "Gold"}, {"plan_code": 3}, {"plan_code": "DevPro", "x": 1}]
)
async def test_preview_bad_input_is_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    r = await client.post("/v1/admin/plan/preview", headers=world.headers(world.a), json=body)
    assert r.status_code == 422


async def test_anonymous_401_and_missing_permission_403(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await client.get("/v1/admin/plan")).status_code == 401
    assert (
        await client.post("/v1/admin/plan/preview", json={"plan_code": "DevFree"})
    ).status_code == 401
    for user in ("member", "agent"):
        r = await client.get("/v1/admin/plan", headers=world.headers(world.a, user))
        assert r.status_code == 403 and error_code(r) == "PERMISSION_DENIED"
        r = await client.post(
            "/v1/admin/plan/preview",
            headers=world.headers(world.a, user),
            json={"plan_code": "DevFree"},
        )
        assert r.status_code == 403


async def test_plan_without_the_plan_view_feature_is_402(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.b.id, None)
    await session.execute(
        text("UPDATE tenant_plans SET status = 'cancelled' WHERE tenant_id = :t"), {"t": world.b.id}
    )
    r = await client.get("/v1/admin/plan", headers=world.headers(world.b))
    assert r.status_code == 402 and error_code(r) == "PLAN_REQUIRED"
