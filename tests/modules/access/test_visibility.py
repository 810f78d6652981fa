"""Record visibility scopes on contacts and companies, in a realistic organisation:
two sales agents restricted to `own`, a sales manager above them (`subtree`), a staff
member seeing their team (`group`), finance seeing `all` (no scope set)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World, error_code
from tests.factories import make_user
from tests.modules.contacts.helpers import make_company, make_contact


@dataclass
class Org:
    agent1: UUID
    agent2: UUID
    manager: UUID
    staff: UUID
    finance: UUID
    team: str
    contacts: dict[str, UUID]
    companies: dict[str, UUID]


def as_user(world: World, user_id: UUID) -> dict[str, str]:
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=user_id)
    return {"Authorization": f"Bearer {token}"}


async def role_id(client: httpx.AsyncClient, world: World, code: str) -> str:
    roles = (await client.get("/v1/admin/roles", headers=world.headers(world.a))).json()
    return str(next(r["id"] for r in roles if r["code"] == code))


async def set_scopes(
    client: httpx.AsyncClient, world: World, role: str, scopes: dict[str, str]
) -> dict[str, Any]:
    rid = await role_id(client, world, role)
    response = await client.put(
        f"/v1/admin/roles/{rid}/scopes", json={"scopes": scopes}, headers=world.headers(world.a)
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def build_org(client: httpx.AsyncClient, session: AsyncSession, world: World) -> Org:
    await bind_tenant(session, world.a.id, None)
    tid = world.a.id
    agent1 = await make_user(session, tenant_id=tid, email="a1@org.test", role="sales_agent")
    agent2 = await make_user(session, tenant_id=tid, email="a2@org.test", role="sales_agent")
    manager = await make_user(session, tenant_id=tid, email="m@org.test", role="sales_manager")
    staff = await make_user(session, tenant_id=tid, email="s@org.test", role="staff")
    finance = await make_user(session, tenant_id=tid, email="f@org.test", role="finance_manager")
    await set_scopes(client, world, "sales_agent", {"contact": "own", "company": "own"})
    await set_scopes(client, world, "sales_manager", {"contact": "subtree", "company": "subtree"})
    await set_scopes(client, world, "staff", {"contact": "group"})
    admin = world.headers(world.a)
    edge = await client.post(
        "/v1/admin/roles/hierarchy",
        json={
            "parent_role_id": await role_id(client, world, "sales_manager"),
            "child_role_id": await role_id(client, world, "sales_agent"),
        },
        headers=admin,
    )
    assert edge.status_code == 201, edge.text
    team = await client.post(
        "/v1/admin/groups", json={"code": "team_nile", "name": "Team Nile"}, headers=admin
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    joined = await client.post(
        f"/v1/admin/groups/{team_id}/members",
        json={"user_ids": [str(staff), str(agent1)]},
        headers=admin,
    )
    assert joined.status_code in (200, 201), joined.text
    contacts = {
        "agent1": (await make_contact(session, world.a, first_name="Zaynab", owner_id=agent1)).id,
        "agent2": (await make_contact(session, world.a, first_name="Zaki", owner_id=agent2)).id,
        "manager": (await make_contact(session, world.a, first_name="Zuhair", owner_id=manager)).id,
        "nobody": (await make_contact(session, world.a, first_name="Zahra")).id,
    }
    companies = {
        "agent1": (await make_company(session, world.a, name="Zamalek Homes", owner_id=agent1)).id,
        "agent2": (await make_company(session, world.a, name="Zayed Towers", owner_id=agent2)).id,
    }
    return Org(agent1, agent2, manager, staff, finance, team_id, contacts, companies)


async def listed(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> set[UUID]:
    response = await client.get(path, params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return {UUID(item["id"]) for item in response.json()["items"]}


async def test_each_scope_on_lists_details_updates_and_search(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    org = await build_org(client, session, world)
    c = org.contacts
    mine = {c["agent1"], c["nobody"]}
    agent1 = as_user(world, org.agent1)
    assert (await listed(client, "/v1/contacts", agent1)) & set(c.values()) == mine
    other = await client.get(f"/v1/contacts/{c['agent2']}", headers=agent1)
    assert other.status_code == 404 and error_code(other) == "NOT_FOUND"
    patched = await client.patch(
        f"/v1/contacts/{c['agent2']}", json={"first_name": "X"}, headers=agent1
    )
    assert patched.status_code == 404
    found = await client.get("/v1/search", params={"q": "za"}, headers=agent1)
    ids = {UUID(i["id"]) for g in found.json()["groups"] for i in g["items"]}
    assert c["agent2"] not in ids and c["agent1"] in ids
    companies = await listed(client, "/v1/companies", agent1)
    assert org.companies["agent1"] in companies and org.companies["agent2"] not in companies
    refused = await client.get(f"/v1/companies/{org.companies['agent2']}", headers=agent1)
    assert refused.status_code == 404

    manager = await listed(client, "/v1/contacts", as_user(world, org.manager))
    assert set(c.values()) <= manager  # below them in the role tree: both agents
    finance = await listed(client, "/v1/contacts", as_user(world, org.finance))
    assert set(c.values()) <= finance  # no scope set for the role: all

    staff = as_user(world, org.staff)
    assert (await listed(client, "/v1/contacts", staff)) & set(c.values()) == mine
    moved = await client.post(
        f"/v1/admin/groups/{org.team}/members",
        json={"user_ids": [str(org.agent2)]},
        headers=world.headers(world.a),
    )
    assert moved.status_code in (200, 201)
    assert c["agent2"] in await listed(client, "/v1/contacts", staff)  # at once


async def test_a_manager_whose_subordinate_leaves_stops_seeing_their_records(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    org = await build_org(client, session, world)
    manager = as_user(world, org.manager)
    assert org.contacts["agent2"] in await listed(client, "/v1/contacts", manager)
    changed = await client.post(
        f"/v1/admin/users/{org.agent2}/roles",
        json={"assign": ["staff"], "remove": ["sales_agent"]},
        headers=world.headers(world.a),
    )
    assert changed.status_code == 200, changed.text
    assert org.contacts["agent2"] not in await listed(client, "/v1/contacts", manager)
    exported = await client.get("/v1/contacts/export", headers=manager)
    assert exported.status_code == 200, exported.text
    assert "Zaynab" in exported.text and "Zaki" not in exported.text  # export follows too


async def test_scopes_api_negative_paths(client: httpx.AsyncClient, world: World) -> None:
    rid = await role_id(client, world, "sales_agent")
    url = f"/v1/admin/roles/{rid}/scopes"
    assert (await client.get(url)).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.put(url, json={"scopes": {}}, headers=member)).status_code == 403
    other = await client.get(url, headers=world.headers(world.b))
    assert other.status_code == 404
    for body in ({"scopes": {"contact": "mine"}}, {"scopes": {"spaceship": "own"}}, []):
        bad = await client.put(url, json=body, headers=world.headers(world.a))
        assert bad.status_code == 422, body
    read = await client.get(url, headers=world.headers(world.a))
    assert read.json()["scopes"] == {"company": "all", "contact": "all"}
