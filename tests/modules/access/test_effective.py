"""`GET /v1/admin/users/{id}/effective-permissions`: what a user may do, and which role
grants each permission."""

from __future__ import annotations

import httpx

from tests.conftest import World, error_code
from tests.web.test_pages import cookie


def url(user_id: object) -> str:
    return f"/v1/admin/users/{user_id}/effective-permissions"


async def test_each_permission_says_which_role_grants_it(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(url(world.a.agent_id), headers=world.headers(world.a))
    assert response.status_code == 200
    granted = {p["code"]: p["granted_by"] for p in response.json()["permissions"]}
    assert granted["ops.runs.read"] == ["sales_manager"]
    assert "audit.read" not in granted
    nobody = await client.get(url(world.a.member_id), headers=world.headers(world.a))
    assert nobody.json()["permissions"] == []


async def test_negative_paths(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get(url(world.a.agent_id))).status_code == 401
    member = await client.get(url(world.a.agent_id), headers=world.headers(world.a, "member"))
    assert member.status_code == 403
    other = await client.get(url(world.b.agent_id), headers=world.headers(world.a))
    assert other.status_code == 404 and error_code(other) == "NOT_FOUND"
    bad = await client.get(url("not-a-uuid"), headers=world.headers(world.a))
    assert bad.status_code == 422


async def test_the_person_page_shows_access_and_its_reasons(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get(f"/admin/users/{world.a.agent_id}?tab=access", headers=cookie(world))
    assert page.status_code == 200 and 'data-testid="effective-permissions"' in page.text
    assert "sales_manager" in page.text
    other = await client.get(f"/admin/users/{world.b.agent_id}", headers=cookie(world))
    assert other.status_code == 404
    refused = await client.get(f"/admin/users/{world.a.agent_id}", headers=cookie(world, "member"))
    assert refused.status_code == 403
