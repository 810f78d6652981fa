"""The main navigation shows each person the screens they may open, and no others."""

from __future__ import annotations

import re

import httpx

from tests.conftest import World
from tests.web.test_pages import cookie


def nav_ids(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([a-z_]+)"', html))


async def test_admin_sees_every_screen(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/notifications", headers=cookie(world))
    assert nav_ids(page.text) == {"notifications", "runs", "messages", "templates", "audit"}


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
