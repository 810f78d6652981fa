"""The Groups screen: create a group, add and remove members, refusals shown in place."""

from __future__ import annotations

import re

import httpx

from tests.conftest import World
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def test_create_a_group_and_manage_its_members(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = cookie(world) | HTMX
    page = await client.get("/admin/groups", headers=cookie(world))
    assert page.status_code == 200 and 'data-testid="groups"' in page.text
    created = await client.post(
        "/admin/groups", data={"code": "team_giza", "name": "Team Giza"}, headers=headers
    )
    assert created.status_code == 204
    path = created.headers["HX-Redirect"]
    again = await client.post(
        "/admin/groups", data={"code": "team_giza", "name": "Twice"}, headers=headers
    )
    assert again.status_code == 409 and 'role="alert"' in again.text
    group_id = path.rsplit("/", 1)[1]
    detail = await client.get(path, headers=cookie(world))
    assert detail.status_code == 200 and "Nobody is in this group yet." in detail.text
    added = await client.post(
        f"/admin/groups/{group_id}/members",
        data={"user_id": str(world.a.agent_id)},
        headers=headers,
    )
    assert added.status_code == 200 and "agent@alpha.test" in added.text
    remove = re.search(r'hx-post="(/admin/groups/[^"]+/remove)"', added.text)
    assert remove is not None
    removed = await client.post(remove.group(1), headers=headers)
    assert removed.status_code == 200 and "Nobody is in this group yet." in removed.text


async def test_groups_negative_paths(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get("/admin/groups", headers={"Accept": "text/html"})).status_code == 303
    member = await client.get("/admin/groups", headers=cookie(world, "member"))
    assert member.status_code == 403
    refused = await client.post(
        "/admin/groups", data={"code": "x1", "name": "X"}, headers=cookie(world, "agent") | HTMX
    )
    assert refused.status_code == 403
    bad = await client.post(
        "/admin/groups", data={"code": "Not Valid", "name": "X"}, headers=cookie(world) | HTMX
    )
    assert bad.status_code == 422
    other = await client.get(
        "/admin/groups/01900000-0000-7000-8000-000000000000", headers=cookie(world)
    )
    assert other.status_code == 404


async def test_a_group_page_links_to_its_overrides(client: httpx.AsyncClient, world: World) -> None:
    made = await client.post(
        "/v1/admin/groups",
        json={"code": "linked", "name": "Linked"},
        headers=world.headers(world.a),
    )
    gid = made.json()["id"]
    page = await client.get(f"/admin/groups/{gid}", headers=cookie(world))
    assert f'href="/admin/entitlements?target=group:{gid}"' in page.text
    editor = await client.get(f"/admin/entitlements?target=group:{gid}", headers=cookie(world))
    assert editor.status_code == 200 and "Linked" in editor.text
