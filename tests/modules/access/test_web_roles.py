"""The Roles screen: scopes per role saved from the page, the role tree with its cycle
refusal, and who may open or change it."""

from __future__ import annotations

import re

import httpx

from tests.conftest import World
from tests.modules.access.test_visibility import role_id
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def test_scopes_are_saved_from_the_page(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/admin/roles", headers=cookie(world))
    assert page.status_code == 200 and 'data-testid="roles-table"' in page.text
    rid = await role_id(client, world, "sales_agent")
    saved = await client.post(
        f"/admin/roles/{rid}/scopes",
        data={"scope_contact": "own", "scope_company": "group"},
        headers=cookie(world) | HTMX,
    )
    assert saved.status_code == 200 and "✓" in saved.text
    api = await client.get(f"/v1/admin/roles/{rid}/scopes", headers=world.headers(world.a))
    assert api.json()["scopes"] == {"company": "group", "contact": "own"}
    bad = await client.post(
        f"/admin/roles/{rid}/scopes", data={"scope_contact": "mine"}, headers=cookie(world) | HTMX
    )
    assert bad.status_code == 422


async def test_the_role_tree_refuses_a_cycle_and_shows_it(
    client: httpx.AsyncClient, world: World
) -> None:
    manager = await role_id(client, world, "sales_manager")
    agent = await role_id(client, world, "sales_agent")
    headers = cookie(world) | HTMX
    added = await client.post(
        "/admin/roles/hierarchy",
        data={"parent_role_id": manager, "child_role_id": agent},
        headers=headers,
    )
    assert added.status_code == 200 and "sales_manager" in added.text
    tree = added.text.split('data-testid="role-tree"', 1)[1].split("</ul>\n", 1)[0]
    assert tree.index('data-role="sales_manager"') < tree.index('data-role="sales_agent"')
    unplaced = added.text.split('data-testid="unplaced-roles"', 1)[1]
    assert 'data-role="viewer"' not in tree and 'data-role="viewer"' in unplaced
    refused = await client.post(
        "/admin/roles/hierarchy",
        data={"parent_role_id": agent, "child_role_id": manager},
        headers=headers,
    )
    assert refused.status_code == 409
    cycle = re.search(r'data-testid="cycle">([^<]*)<', refused.text)
    assert cycle is not None and "sales_agent" in cycle.group(1)
    edge = re.search(r'hx-post="/admin/roles/hierarchy/([0-9a-f-]+)/delete"', added.text)
    assert edge is not None
    removed = await client.post(f"/admin/roles/hierarchy/{edge.group(1)}/delete", headers=headers)
    assert removed.status_code == 200 and "No role is placed above another yet." in removed.text


async def test_who_may_open_and_change_it(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get("/admin/roles", headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    member = await client.get("/admin/roles", headers=cookie(world, "member"))
    assert member.status_code == 403
    rid = await role_id(client, world, "sales_agent")
    agent = await client.post(
        f"/admin/roles/{rid}/scopes",
        data={"scope_contact": "own"},
        headers=cookie(world, "agent") | HTMX,
    )
    assert agent.status_code == 403
    cross_site = await client.post(
        f"/admin/roles/{rid}/scopes", data={"scope_contact": "own"}, headers=cookie(world)
    )
    assert cross_site.status_code == 403
    theirs = await client.post(
        f"/admin/roles/{rid}/scopes",
        data={"scope_contact": "own"},
        headers=cookie(world, tenant="b") | HTMX,
    )
    assert theirs.status_code == 404
