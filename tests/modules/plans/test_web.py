"""The Plan screen: features, limits with live usage (seats counted as the seats screen
counts them), the near-limit nudge and the upgrade request; who may open it."""

from __future__ import annotations

import re

import httpx

from tests.conftest import World
from tests.web.test_pages import cookie


async def test_the_plan_with_its_usage(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/admin/plan", headers=cookie(world, tenant="b"))
    assert page.status_code == 200
    assert "Dev Free" in page.text and 'data-testid="plan-features"' in page.text
    seats = re.search(r'<tr data-key="users.max"([^>]*)>(.*?)</tr>', page.text, re.S)
    assert seats is not None and "data-near-limit" in seats.group(1)  # 3 of 3 seats
    assert 'hx-post="/access/request"' in page.text
    people = await client.get("/admin/users", headers=cookie(world, tenant="b"))
    assert 'data-testid="seats-full"' in people.text  # the same nudge where people are added
    roomy = await client.get("/admin/users", headers=cookie(world))
    assert 'data-testid="seats-full"' not in roomy.text


async def test_who_may_open_it(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get("/admin/plan", headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    member = await client.get("/admin/plan", headers=cookie(world, "member"))
    assert member.status_code == 403
