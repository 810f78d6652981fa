"""`/v1/admin/groups[/{id}[/members[/{user_id}]]]` and `group_peer_user_ids`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import entitlements
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.entitlements import Entitlements
from m3crm.kernel.ids import TenantId
from m3crm.modules.access.service import group_peer_user_ids
from tests.conftest import World, error_code
from tests.factories import make_user
from tests.modules.access.helpers import audit_rows, insert_group

URL = "/v1/admin/groups"


async def create(client: httpx.AsyncClient, world: World, **body: Any) -> Any:
    r = await client.post(URL, headers=world.headers(world.a), json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_group_lifecycle_is_audited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    group = await create(client, world, code="north_team", name="North team")
    assert group["member_count"] == 0 and group["is_active"] is True
    assert group["description"] == "" and group["members"] == []
    h = world.headers(world.a)

    listed = (await client.get(URL, headers=h)).json()
    assert "north_team" in {g["code"] for g in listed}

    r = await client.patch(
        f"{URL}/{group['id']}", headers=h, json={"name": "North", "is_active": False}
    )
    assert r.status_code == 200 and r.json()["name"] == "North"
    assert r.json()["is_active"] is False and r.json()["code"] == "north_team"

    r = await client.delete(f"{URL}/{group['id']}", headers=h)
    assert r.status_code == 204
    assert (await client.get(f"{URL}/{group['id']}", headers=h)).status_code == 404

    [(before, after, _)] = await audit_rows(session, world.a.id, "group.created")
    assert before is None and after["code"] == "north_team"
    [(before, after, _)] = await audit_rows(session, world.a.id, "group.updated")
    assert before == {"name": "North team", "is_active": True}
    assert after == {"name": "North", "is_active": False}
    [(before, after, entity)] = await audit_rows(session, world.a.id, "group.deleted")
    assert after is None and before["code"] == "north_team" and entity == group["id"]


async def test_members_add_remove(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    group = await create(client, world, code="sales", name="Sales")
    h, url = world.headers(world.a), f"{URL}/{group['id']}/members"
    ids = [str(world.a.agent_id), str(world.a.member_id)]
    r = await client.post(url, headers=h, json={"user_ids": ids})
    assert r.status_code == 200, r.text
    assert {m["user_id"] for m in r.json()["members"]} == set(ids)
    assert r.json()["member_count"] == 2
    # adding again changes nothing
    r = await client.post(url, headers=h, json={"user_ids": ids[:1]})
    assert r.json()["member_count"] == 2

    r = await client.delete(f"{url}/{world.a.member_id}", headers=h)
    assert r.status_code == 204
    r = await client.delete(f"{url}/{world.a.member_id}", headers=h)
    assert r.status_code == 404
    detail = (await client.get(f"{URL}/{group['id']}", headers=h)).json()
    assert [m["user_id"] for m in detail["members"]] == ids[:1]

    rows = await audit_rows(session, world.a.id, "group.members.changed")
    assert [(b, a) for b, a, _ in rows] == [
        ({"members": []}, {"members": sorted(ids)}),
        ({"members": sorted(ids)}, {"members": ids[:1]}),
    ]


async def test_bad_input_is_422(client: httpx.AsyncClient, world: World) -> None:
    h = world.headers(world.a)
    r = await client.post(URL, headers=h, json={"code": "Bad Code", "name": ""})
    assert r.status_code == 422 and error_code(r) == "VALIDATION_ERROR"
    group = await create(client, world, code="ops", name="Ops")
    url = f"{URL}/{group['id']}/members"
    r = await client.post(url, headers=h, json={"user_ids": []})
    assert r.status_code == 422 and "user_ids" in r.json()["error"]["details"]["fields"]
    # another tenant's user is unknown here
    r = await client.post(url, headers=h, json={"user_ids": [str(world.b.agent_id)]})
    assert r.status_code == 422 and "user_ids" in r.json()["error"]["details"]["fields"]


async def test_duplicate_code_is_409(client: httpx.AsyncClient, world: World) -> None:
    await create(client, world, code="twins", name="Twins")
    r = await client.post(URL, headers=world.headers(world.a), json={"code": "twins", "name": "X"})
    assert r.status_code == 409 and error_code(r) == "CONFLICT"


async def test_anonymous_is_401_and_roleless_is_403(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await client.get(URL)).status_code == 401
    r = await client.get(URL, headers=world.headers(world.a, "member"))
    assert r.status_code == 403 and error_code(r) == "PERMISSION_DENIED"
    # a sales manager may see groups but not make them
    assert (await client.get(URL, headers=world.headers(world.a, "agent"))).status_code == 200
    r = await client.post(
        URL, headers=world.headers(world.a, "agent"), json={"code": "mine", "name": "Mine"}
    )
    assert r.status_code == 403


async def test_other_tenants_group_is_404(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    group_id = await insert_group(session, world.a.id)
    h = world.headers(world.b)
    assert (await client.get(f"{URL}/{group_id}", headers=h)).status_code == 404
    r = await client.post(
        f"{URL}/{group_id}/members", headers=h, json={"user_ids": [str(world.b.member_id)]}
    )
    assert r.status_code == 404
    assert group_id not in {g["id"] for g in (await client.get(URL, headers=h)).json()}


async def test_plan_without_groups_is_402(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both shipped plans include `rbac.groups`, so a plan without it is simulated."""

    async def no_groups(session: AsyncSession, tenant_id: TenantId) -> Entitlements:
        return Entitlements(plan_code="Bare", limits={"groups.max": 10})

    monkeypatch.setattr(entitlements, "_loader", no_groups)
    r = await client.get(URL, headers=world.headers(world.a))
    assert r.status_code == 402 and error_code(r) == "PLAN_REQUIRED"
    assert r.json()["error"]["details"] == {"feature": "rbac.groups"}
    # permission comes first
    assert (await client.get(URL, headers=world.headers(world.a, "member"))).status_code == 403


async def test_groups_max_is_422(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """DevFree (tenant B) allows 10 groups."""
    for _ in range(10):
        await insert_group(session, world.b.id)
    r = await client.post(
        URL, headers=world.headers(world.b), json={"code": "one_more", "name": "X"}
    )
    assert r.status_code == 422 and error_code(r) == "LIMIT_REACHED"
    assert r.json()["error"]["details"] == {"key": "groups.max", "limit": 10}


async def test_group_peers(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    h = world.headers(world.a)
    await bind_tenant(session, world.a.id, None)
    lone = await make_user(session, tenant_id=world.a.id, email="lone@alpha.test")
    team = await create(client, world, code="team", name="Team")
    idle = await create(client, world, code="idle", name="Idle", is_active=False)
    a, b = world.a.agent_id, world.a.member_id
    await client.post(f"{URL}/{team['id']}/members", headers=h, json={"user_ids": [str(a), str(b)]})
    await client.post(
        f"{URL}/{idle['id']}/members", headers=h, json={"user_ids": [str(a), str(lone)]}
    )
    assert await group_peer_user_ids(session, world.a.id, a) == {b}
    assert await group_peer_user_ids(session, world.a.id, lone) == set()
    # leaving the group counts at once
    await client.delete(f"{URL}/{team['id']}/members/{b}", headers=h)
    assert await group_peer_user_ids(session, world.a.id, a) == set()
