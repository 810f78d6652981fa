""" "Request access" from a refused page: the administrators get an inbox notice, once
per person, page and day; only local pages can be requested."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.modules.notify.models import InboxCategory, InboxEntry
from tests.conftest import World
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def admin_requests(session: AsyncSession, world: World) -> list[InboxEntry]:
    stmt = select(InboxEntry).where(
        InboxEntry.tenant_id == world.a.id,
        InboxEntry.recipient_user_id == world.a.admin_id,
        InboxEntry.category == InboxCategory.APPROVALS,
    )
    return list((await session.execute(stmt)).scalars())


async def test_refused_page_offers_it_and_admins_are_told_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    agent = cookie(world, "agent")
    refused = await client.get("/admin/audit", headers=agent)
    assert refused.status_code == 403
    assert 'hx-post="/access/request"' in refused.text and 'value="/admin/audit"' in refused.text

    before = len(await admin_requests(session, world))
    form = {"kind": "access", "path": "/admin/audit"}
    asked = await client.post("/access/request", data=form, headers=agent | HTMX)
    assert asked.status_code == 200 and 'role="status"' in asked.text
    entries = await admin_requests(session, world)
    assert len(entries) == before + 1
    newest = max(entries, key=lambda e: e.id)
    assert newest.link_url == "/admin/audit"
    assert "وكيل المبيعات" in newest.body  # the requester, by name

    again = await client.post("/access/request", data=form, headers=agent | HTMX)
    assert again.status_code == 200
    assert len(await admin_requests(session, world)) == before + 1


async def test_only_local_pages_and_known_kinds(client: httpx.AsyncClient, world: World) -> None:
    agent = cookie(world, "agent") | HTMX
    for form in (
        {"kind": "access", "path": "https://evil.example/x"},
        {"kind": "access", "path": "//evil.example/x"},
        {"kind": "bribe", "path": "/admin/audit"},
    ):
        response = await client.post("/access/request", data=form, headers=agent)
        assert response.status_code == 422, form


async def test_needs_a_signed_in_same_origin_request(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    form = {"kind": "access", "path": "/admin/audit"}
    anonymous = await client.post("/access/request", data=form)
    assert anonymous.status_code == 401
    before = await session.scalar(select(func.count()).select_from(InboxEntry))
    cross_site = await client.post("/access/request", data=form, headers=cookie(world, "agent"))
    assert cross_site.status_code == 403
    assert await session.scalar(select(func.count()).select_from(InboxEntry)) == before
