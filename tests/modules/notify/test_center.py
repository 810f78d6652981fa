"""The notification center: tabs (categories), bulk mark read per tab, and the detail of
an entry with the channels of its dispatch group (API and drawer/detail pages)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.notify.models import InboxCategory, InboxEntry
from tests.conftest import World, error_code
from tests.modules.notify.test_dispatch import URL, otp_sms
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def mirrored_sms_entry(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """An OTP SMS to the agent: SMS + e-mail copy + inbox copy in one dispatch group."""
    sent = await client.post(
        URL,
        json=otp_sms(recipient_user_id=str(world.a.agent_id), correlation_key=None),
        headers=world.headers(world.a),
    )
    assert sent.status_code == 202, sent.text
    listing = await client.get("/v1/me/notifications", headers=world.headers(world.a, "agent"))
    group = sent.json()["dispatch_group_id"]
    entry: dict[str, Any] = next(
        e for e in listing.json()["items"] if e["dispatch_group_id"] == group
    )
    return entry


async def categorised(
    session: AsyncSession, world: World, category: InboxCategory, title: str
) -> InboxEntry:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    entry = InboxEntry(
        tenant_id=world.a.id,
        recipient_user_id=world.a.agent_id,
        title=title,
        body="",
        category=category,
        meta={},
    )
    session.add(entry)
    await session.flush()
    return entry


async def test_detail_lists_the_mirrored_channels(client: httpx.AsyncClient, world: World) -> None:
    entry = await mirrored_sms_entry(client, world)
    detail = await client.get(
        f"/v1/me/notifications/{entry['id']}", headers=world.headers(world.a, "agent")
    )
    assert detail.status_code == 200
    channels = sorted((c["channel"], c["is_mirror"]) for c in detail.json()["channels"])
    assert channels == [("email", True), ("inbox", True), ("sms", False)]

    page = await client.get(f"/notifications/{entry['id']}", headers=cookie(world, "agent"))
    assert page.status_code == 200
    for channel in ("sms", "email", "inbox"):
        assert f'data-channel="{channel}"' in page.text


async def test_someone_elses_entry_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    entry = await mirrored_sms_entry(client, world)
    for headers in (world.headers(world.a), world.headers(world.b)):
        response = await client.get(f"/v1/me/notifications/{entry['id']}", headers=headers)
        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"
    page = await client.get(f"/notifications/{entry['id']}", headers=cookie(world))
    assert page.status_code == 404


async def test_tabs_filter_and_bulk_read_stays_in_its_tab(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    task = await categorised(session, world, InboxCategory.TASKS, "Call the buyer")
    approval = await categorised(session, world, InboxCategory.APPROVALS, "Approve discount")
    agent = cookie(world, "agent")

    tasks_tab = await client.get("/notifications/drawer?tab=tasks", headers=agent | HTMX)
    assert tasks_tab.status_code == 200
    assert "Call the buyer" in tasks_tab.text and "Approve discount" not in tasks_tab.text
    assert 'aria-selected="true"' in tasks_tab.text

    marked = await client.post("/notifications/drawer/read-all?tab=tasks", headers=agent | HTMX)
    assert marked.status_code == 200 and marked.headers["HX-Trigger"] == "inbox-changed"
    await session.refresh(task)
    await session.refresh(approval)
    assert task.is_read and not approval.is_read

    api = world.headers(world.a, "agent")
    listed = await client.get("/v1/me/notifications?category=approvals", headers=api)
    assert [e["title"] for e in listed.json()["items"]][:1] == ["Approve discount"]
    bulk = await client.patch(
        "/v1/me/notifications/read-bulk", json={"category": "approvals"}, headers=api
    )
    assert bulk.status_code == 200 and bulk.json()["updated"] >= 1
    await session.refresh(approval)
    assert approval.is_read


async def test_bad_tab_and_category_are_422(client: httpx.AsyncClient, world: World) -> None:
    drawer = await client.get(
        "/notifications/drawer?tab=nope", headers=cookie(world, "agent") | HTMX
    )
    assert drawer.status_code == 422
    api = await client.get(
        "/v1/me/notifications?category=nope", headers=world.headers(world.a, "agent")
    )
    assert api.status_code == 422 and error_code(api) == "VALIDATION_ERROR"
    bulk = await client.patch(
        "/v1/me/notifications/read-bulk",
        json={"category": "nope"},
        headers=world.headers(world.a, "agent"),
    )
    assert bulk.status_code == 422


async def test_drawer_needs_a_signed_in_reader(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get("/notifications/drawer", headers={"Accept": "text/html"} | HTMX)
    assert anonymous.status_code == 204
    assert anonymous.headers["HX-Redirect"].startswith("/login?next=")
    api = await client.get("/v1/me/notifications/" + "0" * 8 + "-0000-7000-8000-" + "0" * 12)
    assert api.status_code == 401
    member = await client.get("/notifications/drawer", headers=cookie(world, "member") | HTMX)
    assert member.status_code == 403
