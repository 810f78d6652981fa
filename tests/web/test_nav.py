"""The main navigation shows each person the screens they may open, and no others."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.web.nav import NavItem, register_nav, unregister_nav
from tests.conftest import World
from tests.modules.notify.helpers import inbox_entry
from tests.web.test_pages import cookie


def nav_ids(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([a-z_]+)"', html))


async def test_admin_sees_every_screen(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/notifications", headers=cookie(world))
    assert nav_ids(page.text) == {
        "home",
        "notifications",
        "runs",
        "messages",
        "templates",
        "audit",
        "users",
        "roles",
        "groups",
        "dictionaries",
        "entitlements",
        "plan",
        "contacts",
        "companies",
    }


@pytest.fixture
def plan_gated_item() -> Iterator[NavItem]:
    """A screen that needs a DevPro feature (world.a is on DevPro, world.b on DevFree)."""
    item = NavItem(
        "gated", "Gated", "/gated", "notify.inbox.read.self", feature="twofa.sms", order=5
    )
    register_nav(item)
    yield item
    unregister_nav(item.id)


async def test_a_plan_gated_screen_shows_locked_without_the_feature(
    client: httpx.AsyncClient, world: World, plan_gated_item: NavItem
) -> None:
    pro = await client.get("/notifications", headers=cookie(world))
    free = await client.get("/notifications", headers=cookie(world, tenant="b"))
    assert "gated" in nav_ids(pro.text) and "gated" in nav_ids(free.text)
    locked = re.compile(r'data-nav="gated".*?</a>', re.S)
    assert "Upgrade" not in locked.search(pro.text).group(0)  # type: ignore[union-attr]
    assert "Upgrade" in locked.search(free.text).group(0)  # type: ignore[union-attr]


async def test_a_sales_manager_sees_only_what_they_may_open(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get("/notifications", headers=cookie(world, "agent"))
    shown = nav_ids(page.text)
    assert {"notifications", "runs"} <= shown
    assert not shown & {"templates", "audit"}
    for hidden in ("/settings/templates", "/admin/audit"):
        refused = await client.get(hidden, headers=cookie(world, "agent"))
        assert refused.status_code == 403, hidden


async def test_signed_out_visitors_get_no_menu(client: httpx.AsyncClient) -> None:
    assert nav_ids((await client.get("/")).text) == set()


async def test_unread_badge_counts_and_is_polled(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    page = await client.get("/notifications", headers=cookie(world))
    assert 'hx-get="/notifications/badge"' in page.text and "every 30s" in page.text
    empty = await client.get("/notifications/badge", headers=cookie(world, "agent"))
    assert empty.status_code == 200
    await inbox_entry(session, world.a, world.a.agent_id)
    await inbox_entry(session, world.a, world.a.agent_id)
    badge = await client.get("/notifications/badge", headers=cookie(world, "agent"))
    assert re.search(r">\s*[\d٠-٩]+\s*<", badge.text)
    assert "إشعار" in badge.text  # the agent reads Arabic; the count is spoken too
    member = await client.get("/notifications/badge", headers=cookie(world, "member"))
    assert member.status_code == 403
