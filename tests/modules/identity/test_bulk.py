"""Bulk actions on the People list: add to group, give a role, suspend — all or nothing."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World
from tests.modules.identity.test_users_admin import new_user
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}
URL = "/admin/users/bulk"


async def test_bulk_actions_apply_to_every_ticked_person(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    one = await new_user(session, world, "bulk1@alpha.test")
    two = await new_user(session, world, "bulk2@alpha.test")
    page = await client.get("/admin/users", headers=cookie(world))
    assert 'form="bulk"' in page.text and 'id="bulk"' in page.text
    admin = world.headers(world.a)
    group = await client.post(
        "/v1/admin/groups", json={"code": "bulk_team", "name": "Bulk"}, headers=admin
    )
    ticked = {"user_ids": [str(one), str(two)]}
    added = await client.post(
        URL,
        data={"action": "add_to_group", "target": group.json()["id"], **ticked},
        headers=cookie(world) | HTMX,
    )
    assert added.status_code == 204 and added.headers["HX-Refresh"] == "true"
    members = await client.get(f"/v1/admin/groups/{group.json()['id']}", headers=admin)
    assert len(members.json()["members"]) == 2
    roles = await client.post(
        URL,
        data={"action": "assign_role", "target": "staff", **ticked},
        headers=cookie(world) | HTMX,
    )
    assert roles.status_code == 204
    suspended = await client.post(
        URL, data={"action": "suspend", **ticked}, headers=cookie(world) | HTMX
    )
    assert suspended.status_code == 204
    for user_id in (one, two):
        found = await client.get(f"/v1/admin/users/{user_id}", headers=admin)
        assert found.json()["status"] == "suspended" and "staff" in found.json()["roles"]


async def test_bulk_refusals_and_guards(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    one = await new_user(session, world, "bulk3@alpha.test")
    # Suspending oneself is refused; the request's transaction (kernel `get_session`)
    # rolls back whatever the loop changed before, so the action applies all or nothing.
    mixed = {"action": "suspend", "user_ids": [str(world.a.admin_id), str(one)]}
    refused = await client.post(URL, data=mixed, headers=cookie(world) | HTMX)
    assert refused.status_code == 409
    found = await client.get(f"/v1/admin/users/{one}", headers=world.headers(world.a))
    assert found.json()["status"] == "active"
    other = await client.post(
        URL,
        data={"action": "suspend", "user_ids": [str(world.b.agent_id)]},
        headers=cookie(world) | HTMX,
    )
    assert other.status_code == 404
    agent = await client.post(
        URL,
        data={"action": "suspend", "user_ids": [str(one)]},
        headers=cookie(world, "agent") | HTMX,
    )
    assert agent.status_code == 403
    empty = await client.post(URL, data={"action": "suspend"}, headers=cookie(world) | HTMX)
    assert empty.status_code == 422
    no_group = await client.post(
        URL,
        data={"action": "add_to_group", "target": "x", "user_ids": [str(one)]},
        headers=cookie(world) | HTMX,
    )
    assert no_group.status_code == 422
    cross_site = await client.post(
        URL, data={"action": "suspend", "user_ids": [str(one)]}, headers=cookie(world)
    )
    assert cross_site.status_code == 403
