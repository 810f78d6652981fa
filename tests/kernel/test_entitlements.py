"""Plan gates: `require_feature` → 402, `require_limit` → 422, no plan row → deny."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import get_session, require, require_feature, require_limit
from m3crm.kernel.db.session import Database
from m3crm.kernel.entitlements import Entitlements, load_entitlements
from m3crm.kernel.errors import LimitReached, PlanRequired
from m3crm.settings import Settings
from tests.conftest import World, build_app, error_code


@pytest.fixture
async def gated_client(
    settings: Settings, database: Database, session: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = build_app(settings, database)

    @app.get("/gated/sms", dependencies=[Depends(require_feature("twofa.sms"))])
    async def sms() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/gated/seats", dependencies=[Depends(require_limit("users.max", adding=1))])
    async def seats() -> dict[str, bool]:
        return {"ok": True}

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_feature_in_plan_passes(gated_client: httpx.AsyncClient, world: World) -> None:
    r = await gated_client.get("/gated/sms", headers=world.headers(world.a))
    assert r.status_code == 200


async def test_feature_outside_plan_is_402(gated_client: httpx.AsyncClient, world: World) -> None:
    r = await gated_client.get("/gated/sms", headers=world.headers(world.b))
    assert r.status_code == 402
    assert error_code(r) == "PLAN_REQUIRED"
    assert r.json()["error"]["details"] == {"feature": "twofa.sms"}


async def test_limit_within_plan_passes(gated_client: httpx.AsyncClient, world: World) -> None:
    r = await gated_client.get("/gated/seats", headers=world.headers(world.a))
    assert r.status_code == 200


async def test_limit_reached_is_422(
    gated_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    from m3crm.kernel.db.session import bind_tenant
    from m3crm.modules.plans.models import UsageCounter

    await bind_tenant(session, world.b.id, None)
    session.add(UsageCounter(tenant_id=world.b.id, key="users.max", value=3))
    await session.flush()
    r = await gated_client.get("/gated/seats", headers=world.headers(world.b))
    assert r.status_code == 422
    assert error_code(r) == "LIMIT_REACHED"
    assert r.json()["error"]["details"]["key"] == "users.max"


async def test_tenant_without_plan_is_denied_everything(
    session: AsyncSession, world: World
) -> None:
    from sqlalchemy import text

    from m3crm.kernel.db.session import bind_tenant

    await bind_tenant(session, world.a.id, None)
    await session.execute(text("DELETE FROM tenant_plans"))
    entitlements = await load_entitlements(session, world.a.id)
    assert entitlements == Entitlements()
    with pytest.raises(PlanRequired):
        entitlements.require_feature("plan.view")
    with pytest.raises(LimitReached):
        entitlements.require_limit("users.max")


def test_require_refuses_unknown_permission_codes() -> None:
    with pytest.raises(ValueError, match="unknown permission code"):
        require("contact.raed")
