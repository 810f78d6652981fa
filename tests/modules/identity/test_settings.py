"""Per-user display settings: `/v1/me/settings`, the Settings page and the top bar's
language switch; what they change on every page (theme, density, timezone, clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.i18n import LOCALE_COOKIE
from m3crm.modules.notify.models import InboxEntry
from tests.conftest import World, error_code
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def test_defaults_then_patch_is_saved_and_audited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.b, "agent")
    start = await client.get("/v1/me/settings", headers=headers)
    assert start.status_code == 200
    assert start.json() == {
        "theme": "light",
        "density": "comfortable",
        "time_format": "locale",
        "timezone": None,
        "locale": "ar",
    }
    changed = await client.patch(
        "/v1/me/settings",
        json={"theme": "contrast", "timezone": "Asia/Riyadh", "density": None},
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json()["theme"] == "contrast" and changed.json()["timezone"] == "Asia/Riyadh"
    assert changed.json()["density"] == "comfortable"  # null leaves it as it was
    row = (
        await session.execute(
            select(AuditLog)
            .where(AuditLog.tenant_id == world.b.id, AuditLog.action == "user.settings.updated")
            .order_by(AuditLog.id.desc())
            .limit(1)
        )
    ).scalar_one()
    assert row.before_data == {"theme": "light", "timezone": None}
    assert row.after_data == {"theme": "contrast", "timezone": "Asia/Riyadh"}
    reset = await client.patch("/v1/me/settings", json={"timezone": None}, headers=headers)
    assert reset.json()["timezone"] is None


async def test_bad_values_are_422_with_fields(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    for body, field in (
        ({"theme": "neon"}, "theme"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"locale": "fr"}, "locale"),
        ({"density": "tiny"}, "density"),
        ({"unknown": 1}, "unknown"),
    ):
        response = await client.patch("/v1/me/settings", json=body, headers=headers)
        assert response.status_code == 422, body
        assert error_code(response) == "VALIDATION_ERROR"
        assert field in response.json()["error"]["details"]["fields"], body


async def test_anonymous_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/me/settings")).status_code == 401
    assert (await client.patch("/v1/me/settings", json={"theme": "dark"})).status_code == 401


async def test_settings_page_saves_and_every_page_follows(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = cookie(world, "agent", tenant="b")
    page = await client.get("/account/settings", headers=headers)
    assert page.status_code == 200 and 'id="settings-form"' in page.text
    form = {
        "theme": "dark",
        "density": "compact",
        "time_format": "h24",
        "timezone": "Asia/Dubai",
        "locale": "ar",
    }
    no_htmx = await client.post("/account/settings", data=form, headers=headers)
    assert no_htmx.status_code == 403  # a cookie write needs the page's htmx header
    saved = await client.post("/account/settings", data=form, headers=headers | HTMX)
    assert saved.status_code == 200 and saved.headers["HX-Refresh"] == "true"

    entry = InboxEntry(
        tenant_id=world.b.id,
        recipient_user_id=world.b.agent_id,
        title="t",
        body="",
        meta={},
        created_at=datetime(2026, 11, 26, 15, 5, tzinfo=UTC),
    )
    session.add(entry)
    await session.flush()
    inbox = await client.get("/notifications", headers=headers)
    assert 'data-theme="dark"' in inbox.text and 'data-density="compact"' in inbox.text
    assert "19:05" in inbox.text  # 15:05 UTC in Dubai, on a 24-hour clock

    bad = await client.post(
        "/account/settings", data=form | {"timezone": "Nowhere/City"}, headers=headers | HTMX
    )
    assert bad.status_code == 422 and "settings-timezone-error" in bad.text


async def test_language_switch_saves_on_the_account(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = cookie(world, "admin", tenant="b")
    switched = await client.post("/account/language/ar", headers=headers | HTMX)
    assert switched.status_code == 204 and switched.headers["HX-Refresh"] == "true"
    assert f"{LOCALE_COOKIE}=ar" in switched.headers["set-cookie"]
    me = await client.get("/v1/me/settings", headers=world.headers(world.b))
    assert me.json()["locale"] == "ar"
    page = await client.get("/account/settings", headers=headers)
    assert '<html lang="ar" dir="rtl"' in page.text
    unknown = await client.post("/account/language/xx", headers=headers | HTMX)
    assert unknown.status_code == 422
    await client.post("/account/language/en", headers=headers | HTMX)
