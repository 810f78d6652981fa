"""Refresh-token reuse is caught the same on every refresh path, and the sessions page
revokes other sessions through the audited service (over committed data)."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.session import Database
from tests.modules.identity.test_auth import api, sign_up  # noqa: F401

HX = {"HX-Request": "true"}


async def actions(database: Database, tenant: UUID, action: str) -> list[AuditLog]:
    async with database.transaction(tenant) as session:
        rows = await session.execute(select(AuditLog).where(AuditLog.action == action))
        return list(rows.scalars())


async def test_reused_token_on_session_resume_revokes_the_family(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    body = (await sign_up(api, refresh_via="body")).json()
    tenant = UUID(body["tenant_id"])
    first = body["refresh_token"]
    rotated = await api.post(
        "/v1/auth/refresh", json={"refresh_token": first, "refresh_via": "body"}
    )
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    api.cookies.clear()
    resumed = await api.post(
        "/v1/auth/session/resume", headers=HX, cookies={"m3crm_refresh": first}
    )
    assert resumed.status_code == 204 and "HX-Redirect" not in resumed.headers
    after = await api.post(
        "/v1/auth/refresh", json={"refresh_token": second, "refresh_via": "body"}
    )
    assert after.status_code == 401
    assert len(await actions(database, tenant, "auth.token.reused")) == 1


async def test_api_refresh_reuse_still_answers_token_reused(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    body = (await sign_up(api, refresh_via="body")).json()
    first = body["refresh_token"]
    await api.post("/v1/auth/refresh", json={"refresh_token": first, "refresh_via": "body"})
    reused = await api.post(
        "/v1/auth/refresh", json={"refresh_token": first, "refresh_via": "body"}
    )
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "AUTH_TOKEN_REUSED"
    tenant = UUID(body["tenant_id"])
    assert len(await actions(database, tenant, "auth.token.reused")) == 1


async def test_sessions_page_revoke_others_is_audited(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email = f"others-{uuid4().hex[:8]}@example.com"
    body = (await sign_up(api, email=email)).json()
    tenant = UUID(body["tenant_id"])
    other = await api.post(
        "/v1/auth/login",
        json={"email": email, "password": "river-lotus-4817", "refresh_via": "body"},
    )
    other_refresh = other.json()["refresh_token"]
    page = await api.post(
        "/account/sessions/revoke-others",
        headers={**HX, "Authorization": f"Bearer {body['access_token']}"},
    )
    assert page.status_code == 200
    rows = await actions(database, tenant, "session.revoked_others")
    assert len(rows) == 1 and rows[0].after_data == {"revoked": 1}
    dead = await api.post(
        "/v1/auth/refresh", json={"refresh_token": other_refresh, "refresh_via": "body"}
    )
    assert dead.status_code == 401


async def test_api_revoke_others_counts_and_keeps_this_session(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    email = f"others-{uuid4().hex[:8]}@example.com"
    body = (await sign_up(api, email=email)).json()
    for _ in range(2):
        await api.post("/v1/auth/login", json={"email": email, "password": "river-lotus-4817"})
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    revoked = await api.post("/v1/auth/sessions/revoke-others", headers=headers)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 2}
    left = await api.get("/v1/auth/sessions", headers=headers)
    assert [s["current"] for s in left.json()] == [True]
    api.cookies.clear()
    assert (await api.post("/v1/auth/sessions/revoke-others")).status_code == 401
