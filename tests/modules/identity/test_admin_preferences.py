"""`GET/PUT /v1/admin/users/{id}/preferences`: an administrator reads and changes another
user's language, timezone and notification preferences."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World, error_code
from tests.modules.identity.test_users_admin import audit

DEFAULTS = {
    "email_on_sms": True,
    "email_on_whatsapp": True,
    "inbox_on_all": True,
    "marketing_email_opt_in": False,
    "marketing_sms_opt_in": False,
    "marketing_whatsapp_opt_in": False,
    "locale": None,
}


def url(world: World, user: str = "agent") -> str:
    return f"/v1/admin/users/{getattr(world.a, f'{user}_id')}/preferences"


async def test_read_then_change_another_users_preferences(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    read = await client.get(url(world), headers=headers)
    assert read.status_code == 200, read.text
    assert read.json() == {"locale": "ar", "timezone": None, "notifications": DEFAULTS}

    body = {
        "locale": "en",
        "timezone": "Africa/Cairo",
        "notifications": {"email_on_sms": False, "marketing_email_opt_in": True, "locale": "ar"},
    }
    changed = await client.put(url(world), json=body, headers=headers)
    assert changed.status_code == 200, changed.text
    expected = {
        "locale": "en",
        "timezone": "Africa/Cairo",
        "notifications": DEFAULTS
        | {"email_on_sms": False, "marketing_email_opt_in": True, "locale": "ar"},
    }
    assert changed.json() == expected
    assert (await client.get(url(world), headers=headers)).json() == expected
    # The user sees the change in their own settings.
    own = await client.get("/v1/me/settings", headers=world.headers(world.a, "agent"))
    assert (own.json()["locale"], own.json()["timezone"]) == ("en", "Africa/Cairo")

    [(before, after)] = await audit(session, world, "user.settings.updated", world.a.agent_id)
    assert before == {"locale": "ar", "timezone": None}
    assert after == {"locale": "en", "timezone": "Africa/Cairo"}
    [(before, after)] = await audit(
        session, world, "notification.preferences.updated", world.a.agent_id
    )
    assert before == {"email_on_sms": True, "marketing_email_opt_in": False, "locale": None}
    assert after == {"email_on_sms": False, "marketing_email_opt_in": True, "locale": "ar"}


async def test_partial_changes_leave_the_rest(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    await client.put(url(world), json={"timezone": "Asia/Dubai"}, headers=headers)
    only_notify = await client.put(
        url(world), json={"notifications": {"inbox_on_all": False}}, headers=headers
    )
    assert only_notify.status_code == 200
    got = only_notify.json()
    assert (got["locale"], got["timezone"]) == ("ar", "Asia/Dubai")
    assert got["notifications"]["inbox_on_all"] is False
    back = await client.put(url(world), json={"timezone": None}, headers=headers)
    assert back.json()["timezone"] is None  # null: the workspace default again
    nothing = await client.put(url(world), json={}, headers=headers)
    assert nothing.status_code == 200 and nothing.json() == back.json()


async def test_who_may_read_and_change(client: httpx.AsyncClient, world: World) -> None:
    body: dict[str, Any] = {"notifications": {"inbox_on_all": False}}
    assert (await client.get(url(world))).status_code == 401
    assert (await client.put(url(world), json=body)).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.get(url(world, "admin"), headers=member)).status_code == 403
    refused = await client.put(url(world, "admin"), json=body, headers=member)
    assert refused.status_code == 403 and error_code(refused) == "PERMISSION_DENIED"
    # A sales manager sees people (`user.read`) but may not change their preferences.
    manager = world.headers(world.a, "agent")
    assert (await client.get(url(world, "member"), headers=manager)).status_code == 200
    assert (await client.put(url(world, "member"), json=body, headers=manager)).status_code == 403
    untouched = await client.get(url(world, "member"), headers=world.headers(world.a))
    assert untouched.json()["notifications"]["inbox_on_all"] is True


async def test_another_tenants_user_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    theirs = f"/v1/admin/users/{world.b.agent_id}/preferences"
    headers = world.headers(world.a)
    assert (await client.get(theirs, headers=headers)).status_code == 404
    changed = await client.put(theirs, json={"locale": "en"}, headers=headers)
    assert changed.status_code == 404 and error_code(changed) == "NOT_FOUND"
    mine = await client.get(theirs, headers=world.headers(world.b))
    assert mine.json()["locale"] == "ar"


async def test_bad_input_is_refused_per_field(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"locale": "fr"}, "locale"),
        ({"theme": "dark"}, "theme"),
        ({"notifications": {"sms_everything": True}}, "sms_everything"),
        ({"notifications": {"locale": "not a locale"}}, "locale"),
        ({"notifications": {"inbox_on_all": "sometimes"}}, "inbox_on_all"),
    ]
    for body, field in cases:
        r = await client.put(url(world), json=body, headers=headers)
        assert r.status_code == 422, (body, r.text)
        assert error_code(r) == "VALIDATION_ERROR" and field in str(r.json()["error"]["details"])
    mixed = await client.put(
        url(world),
        json={"timezone": "Nowhere/Else", "notifications": {"inbox_on_all": False}},
        headers=headers,
    )
    assert mixed.status_code == 422
    after = await client.get(url(world), headers=headers)
    assert after.json()["notifications"]["inbox_on_all"] is True  # nothing half-written
