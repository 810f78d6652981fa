"""The People list's filters — role, group, second factor, verified phone, last sign-in —
on the API and the screen; every filter given must hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import new_id
from m3crm.modules.identity.models import TwoFactor, UserProfile
from tests.conftest import World
from tests.modules.access.helpers import insert_group
from tests.modules.identity.test_users_admin import new_user
from tests.web.test_pages import cookie

URL = "/v1/admin/users"


async def emails(client: httpx.AsyncClient, world: World, **params: Any) -> set[str]:
    r = await client.get(URL, params={"limit": 200, **params}, headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    return {u["email"] for u in r.json()["items"] if u["email"].endswith("@filters.test")}


async def _set(session: AsyncSession, sql: str, **params: Any) -> None:
    await session.execute(text(sql), params)


async def test_each_filter_narrows_the_list(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    secured = await new_user(session, world, "secured@filters.test", role="sales_agent")
    phoned = await new_user(session, world, "phoned@filters.test", role="staff")
    idle = await new_user(session, world, "idle@filters.test", role="staff")
    fresh = await new_user(session, world, "fresh@filters.test", role="staff")
    await bind_tenant(session, world.a.id, None)
    now = datetime.now(UTC)
    session.add(TwoFactor(tenant_id=world.a.id, user_id=secured, totp_enabled=True))
    session.add(
        UserProfile(
            tenant_id=world.a.id, user_id=phoned, phone_e164="+201000000001", phone_verified_at=now
        )
    )
    await session.flush()
    for user, when in ((secured, now - timedelta(days=2)), (idle, now - timedelta(days=90))):
        await _set(session, "UPDATE users SET last_login_at = :w WHERE id = :u", w=when, u=user)
    team = await insert_group(session, world.a.id, "filters_team")
    await _set(
        session,
        "INSERT INTO group_members (tenant_id, id, group_id, user_id) VALUES (:t, :i, :g, :u)",
        t=world.a.id, i=new_id(), g=team, u=phoned,
    )  # fmt: skip
    every = {
        "secured@filters.test",
        "phoned@filters.test",
        "idle@filters.test",
        "fresh@filters.test",
    }
    assert await emails(client, world) == every
    assert await emails(client, world, role="sales_agent") == {"secured@filters.test"}
    assert await emails(client, world, group=str(team)) == {"phoned@filters.test"}
    assert await emails(client, world, two_factor="true") == {"secured@filters.test"}
    assert await emails(client, world, two_factor="false") == every - {"secured@filters.test"}
    assert await emails(client, world, phone_verified="true") == {"phoned@filters.test"}
    week = (now - timedelta(days=7)).isoformat()
    assert await emails(client, world, signed_in_after=week) == {"secured@filters.test"}
    stale = await emails(client, world, not_signed_in_since=week)
    assert stale == {"phoned@filters.test", "idle@filters.test", "fresh@filters.test"}
    assert await emails(client, world, never_signed_in="true") == {
        "phoned@filters.test",
        "fresh@filters.test",
    }
    assert await emails(client, world, role="staff", never_signed_in="true", group=str(team)) == {
        "phoned@filters.test"
    }
    assert fresh and idle  # used above through their e-mails

    page = await client.get(
        "/admin/users", params={"signed_in": "stale", "phone": "no"}, headers=cookie(world)
    )
    assert page.status_code == 200
    assert "idle@filters.test" in page.text and "fresh@filters.test" in page.text
    assert "phoned@filters.test" not in page.text and "secured@filters.test" not in page.text
    assert 'value="stale" selected' in page.text


async def test_bad_filters_are_refused(client: httpx.AsyncClient, world: World) -> None:
    for params in ({"group": "x"}, {"two_factor": "maybe"}, {"signed_in_after": "yesterday"}):
        r = await client.get(URL, params=params, headers=world.headers(world.a))
        assert r.status_code == 422, params
    page = await client.get("/admin/users", params={"signed_in": "ages"}, headers=cookie(world))
    assert page.status_code == 422
    theirs = await client.get(
        URL, params={"group": str(UUID(int=1))}, headers=world.headers(world.a)
    )
    assert theirs.status_code == 200 and theirs.json()["items"] == []
