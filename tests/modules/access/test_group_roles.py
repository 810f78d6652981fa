"""Roles given through groups: `/v1/admin/groups/{id}/roles`, their effect on the very
next request (permissions, visibility scopes, seats, the effective-permissions "why"),
and the group page's "Roles given to members" section."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import entitlements
from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.entitlements import Entitlements
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World, error_code
from tests.factories import make_user
from tests.modules.access.helpers import audit_rows, insert_edge, insert_group
from tests.modules.access.test_visibility import as_user, listed, set_scopes
from tests.modules.contacts.helpers import make_contact
from tests.web.test_pages import cookie

GROUPS = "/v1/admin/groups"
EXPORT = "/v1/contacts/export"
HTMX = {"HX-Request": "true"}


async def new_group(client: httpx.AsyncClient, world: World, code: str) -> str:
    r = await client.post(GROUPS, json={"code": code, "name": code}, headers=world.headers(world.a))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def give(client: httpx.AsyncClient, world: World, group_id: str, *roles: str) -> Any:
    r = await client.put(
        f"{GROUPS}/{group_id}/roles", json={"roles": list(roles)}, headers=world.headers(world.a)
    )
    assert r.status_code == 200, r.text
    return r.json()


async def join(client: httpx.AsyncClient, world: World, group_id: str, *users: UUID) -> None:
    r = await client.post(
        f"{GROUPS}/{group_id}/members",
        json={"user_ids": [str(u) for u in users]},
        headers=world.headers(world.a),
    )
    assert r.status_code == 200, r.text


async def staff_user(session: AsyncSession, world: World, email: str) -> UUID:
    await bind_tenant(session, world.a.id, None)
    return await make_user(session, tenant_id=world.a.id, email=email, role="staff")


async def test_a_group_role_counts_from_the_next_request_and_goes_at_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    staff = await staff_user(session, world, "staff.gr@alpha.test")
    me, admin = as_user(world, staff), world.headers(world.a)
    assert (await client.get(EXPORT, headers=me)).status_code == 403
    group = await new_group(client, world, "managers")
    assert await give(client, world, group, "sales_manager") == {"roles": ["sales_manager"]}
    await join(client, world, group, staff)
    assert (await client.get(EXPORT, headers=me)).status_code == 200

    why = await client.get(f"/v1/admin/users/{staff}/effective-permissions", headers=admin)
    granted = {p["code"]: p for p in why.json()["permissions"]}
    assert granted["reports.export"]["granted_by"] == ["sales_manager"]
    assert granted["reports.export"]["via_groups"] == ["managers"]
    assert granted["session.read.self"]["via_groups"] == ["managers"]  # staff has it too
    assert "staff" in granted["session.read.self"]["granted_by"]
    page = await client.get(f"/admin/users/{staff}?tab=access", headers=cookie(world))
    assert 'data-testid="via-groups"' in page.text and "managers" in page.text
    detail = (await client.get(f"{GROUPS}/{group}", headers=admin)).json()
    assert detail["roles"] == ["sales_manager"]
    assert (await client.get(f"{GROUPS}/{group}/roles", headers=admin)).json() == {
        "roles": ["sales_manager"]
    }

    # leaving the group
    await client.delete(f"{GROUPS}/{group}/members/{staff}", headers=admin)
    assert (await client.get(EXPORT, headers=me)).status_code == 403
    await join(client, world, group, staff)
    assert (await client.get(EXPORT, headers=me)).status_code == 200
    # deactivating the group
    r = await client.patch(f"{GROUPS}/{group}", json={"is_active": False}, headers=admin)
    assert r.status_code == 200
    assert (await client.get(EXPORT, headers=me)).status_code == 403
    await client.patch(f"{GROUPS}/{group}", json={"is_active": True}, headers=admin)
    assert (await client.get(EXPORT, headers=me)).status_code == 200
    # taking the role off the group
    assert await give(client, world, group) == {"roles": []}
    assert (await client.get(EXPORT, headers=me)).status_code == 403
    why = await client.get(f"/v1/admin/users/{staff}/effective-permissions", headers=admin)
    assert all(p["via_groups"] == [] for p in why.json()["permissions"])

    rows = await audit_rows(session, world.a.id, "group.roles.changed")
    assert [(b, a) for b, a, _ in rows] == [
        ({"roles": []}, {"roles": ["sales_manager"]}),
        ({"roles": ["sales_manager"]}, {"roles": []}),
    ]


async def test_visibility_scopes_and_the_reporting_line_through_groups(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """An agent holding `sales_agent` (scope `own`) and a manager holding
    `sales_manager` (scope `subtree`, above `sales_agent`), both only through groups."""
    await bind_tenant(session, world.a.id, None)
    agent = await make_user(session, tenant_id=world.a.id, email="ga@alpha.test")
    manager = await make_user(session, tenant_id=world.a.id, email="gm@alpha.test")
    await set_scopes(client, world, "sales_agent", {"contact": "own"})
    await set_scopes(client, world, "sales_manager", {"contact": "subtree"})
    await insert_edge(session, world.a.id, "sales_manager", "sales_agent")
    agents, managers = (
        await new_group(client, world, "agents"),
        await new_group(client, world, "mgrs"),
    )
    await give(client, world, agents, "sales_agent")
    await give(client, world, managers, "sales_manager")
    await join(client, world, agents, agent)
    await join(client, world, managers, manager)
    mine = (await make_contact(session, world.a, first_name="Ghada", owner_id=agent)).id
    other = (
        await make_contact(session, world.a, first_name="Ghazi", owner_id=world.a.member_id)
    ).id

    seen_by_agent = await listed(client, "/v1/contacts", as_user(world, agent))
    assert mine in seen_by_agent and other not in seen_by_agent
    seen_by_manager = await listed(client, "/v1/contacts", as_user(world, manager))
    assert mine in seen_by_manager and other not in seen_by_manager
    # the agent leaves: the manager stops seeing their records at once
    await client.delete(f"{GROUPS}/{agents}/members/{agent}", headers=world.headers(world.a))
    assert mine not in await listed(client, "/v1/contacts", as_user(world, manager))
    # filtering people by role counts group holders
    people = await client.get(
        "/v1/admin/users", params={"role": "sales_manager"}, headers=world.headers(world.a)
    )
    assert people.status_code == 200, people.text
    assert str(manager) in {u["id"] for u in people.json()["items"]}


async def test_a_viewer_given_a_paid_role_through_a_group_takes_a_seat(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    viewer = await make_user(session, tenant_id=world.a.id, email="gv@alpha.test", role="viewer")
    h = world.headers(world.a)
    before = (await client.get("/v1/admin/seats", headers=h)).json()
    group = await new_group(client, world, "paid")
    await join(client, world, group, viewer)
    assert (await client.get("/v1/admin/seats", headers=h)).json()["used"] == before["used"]
    await give(client, world, group, "sales_agent")
    after = (await client.get("/v1/admin/seats", headers=h)).json()
    assert after["used"] == before["used"] + 1
    assert after["breakdown"]["by_group"] == {"paid": 1}
    assert after["breakdown"]["by_role"]["sales_agent"] == (
        before["breakdown"]["by_role"].get("sales_agent", 0) + 1
    )
    await client.patch(f"{GROUPS}/{group}", json={"is_active": False}, headers=h)
    assert (await client.get("/v1/admin/seats", headers=h)).json()["used"] == before["used"]


async def keeper(client: httpx.AsyncClient, session: AsyncSession, world: World) -> UUID:
    """A user who manages groups and their members but holds little else."""
    r = await client.post(
        "/v1/admin/roles",
        json={
            "code": "group_keeper",
            "name": "Group keeper",
            "permissions": ["groups.manage", "groups.members.manage", "user.read"],
        },
        headers=world.headers(world.a),
    )
    assert r.status_code == 201, r.text
    await bind_tenant(session, world.a.id, None)
    return await make_user(
        session, tenant_id=world.a.id, email="gk@alpha.test", role="group_keeper"
    )


async def test_nobody_gives_rights_they_lack(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    me = as_user(world, await keeper(client, session, world))
    group = await new_group(client, world, "keepers")
    url = f"{GROUPS}/{group}/roles"
    r = await client.put(url, json={"roles": ["sales_agent"]}, headers=me)
    assert r.status_code == 403 and error_code(r) == "PERMISSION_DENIED"
    assert "contact.read" in r.json()["error"]["details"]["permissions"]
    # a role carrying nothing itself, but everything of `sales_agent` below it
    r = await client.post(
        "/v1/admin/roles",
        json={"code": "lead_in", "name": "Lead in", "permissions": ["user.read"]},
        headers=world.headers(world.a),
    )
    assert r.status_code == 201
    await insert_edge(session, world.a.id, "lead_in", "sales_agent")
    r = await client.put(url, json={"roles": ["lead_in"]}, headers=me)
    assert r.status_code == 403 and "contact.read" in r.json()["error"]["details"]["permissions"]
    # what the keeper holds they may give, and take away
    await client.put(url, json={"roles": ["group_keeper"]}, headers=me)
    assert (await client.get(url, headers=me)).json() == {"roles": ["group_keeper"]}
    # adding a member to a group giving roles hands those roles out too
    await give(client, world, group, "sales_agent")
    r = await client.post(
        f"{GROUPS}/{group}/members", json={"user_ids": [str(world.a.member_id)]}, headers=me
    )
    assert r.status_code == 403 and "contact.read" in r.json()["error"]["details"]["permissions"]
    r = await client.put(url, json={"roles": []}, headers=me)
    assert r.status_code == 200 and r.json() == {"roles": []}


async def test_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    group = await new_group(client, world, "negatives")
    url, h = f"{GROUPS}/{group}/roles", world.headers(world.a)
    assert (await client.get(url)).status_code == 401
    assert (await client.put(url, json={"roles": []})).status_code == 401
    assert (await client.get(url, headers=world.headers(world.a, "member"))).status_code == 403
    # a sales manager may read groups, not change them
    assert (await client.get(url, headers=world.headers(world.a, "agent"))).status_code == 200
    r = await client.put(url, json={"roles": ["staff"]}, headers=world.headers(world.a, "agent"))
    assert r.status_code == 403
    # another tenant's group is not found
    for method in ("GET", "PUT"):
        r = await client.request(
            method, url, json={"roles": ["staff"]}, headers=world.headers(world.b)
        )
        assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    r = await client.put(url, json={"roles": ["no_such_role"]}, headers=h)
    assert r.status_code == 422 and "roles" in r.json()["error"]["details"]["fields"]
    r = await client.put(url, json={"roles": ["super_admin"]}, headers=h)
    assert r.status_code == 422 and "roles" in r.json()["error"]["details"]["fields"]
    r = await client.put(url, json={"roles": ["Not A Code"]}, headers=h)
    assert r.status_code == 422
    assert (await client.get(url, headers=h)).json() == {"roles": []}
    # a role a group gives is not deleted from under it
    r = await client.post("/v1/admin/roles", json={"code": "temp_role", "name": "Temp"}, headers=h)
    role = r.json()["id"]
    await give(client, world, group, "temp_role")
    r = await client.delete(f"/v1/admin/roles/{role}", headers=h)
    assert r.status_code == 409 and r.json()["error"]["details"]["groups"] == ["negatives"]
    await give(client, world, group)
    assert (await client.delete(f"/v1/admin/roles/{role}", headers=h)).status_code == 204


async def test_plan_without_groups_is_402(
    client: httpx.AsyncClient, session: AsyncSession, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both shipped plans (DevFree too) include `rbac.groups`; a plan without it is
    simulated, as for the other group routes."""
    group = await insert_group(session, world.a.id)

    async def no_groups(session: AsyncSession, tenant_id: TenantId) -> Entitlements:
        return Entitlements(plan_code="Bare", limits={"groups.max": 10})

    monkeypatch.setattr(entitlements, "_loader", no_groups)
    url = f"{GROUPS}/{group}/roles"
    for method in ("GET", "PUT"):
        r = await client.request(method, url, json={"roles": []}, headers=world.headers(world.a))
        assert r.status_code == 402 and error_code(r) == "PLAN_REQUIRED"
    r = await client.put(url, json={"roles": []}, headers=world.headers(world.a, "agent"))
    assert r.status_code == 403  # permission comes first


async def test_the_group_page_gives_roles(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    group = await new_group(client, world, "page_team")
    page = await client.get(f"/admin/groups/{group}", headers=cookie(world))
    assert page.status_code == 200 and 'data-testid="group-roles"' in page.text
    assert 'value="sales_agent"' in page.text and 'value="super_admin"' not in page.text
    url = f"/admin/groups/{group}/roles"
    saved = await client.post(
        url, data={"roles": ["sales_agent", "staff"]}, headers=cookie(world) | HTMX
    )
    assert saved.status_code == 200 and "Saved" in saved.text
    assert 'value="staff" checked' in saved.text
    api = await client.get(f"{GROUPS}/{group}/roles", headers=world.headers(world.a))
    assert api.json() == {"roles": ["sales_agent", "staff"]}
    refused = await client.post(url, data={"roles": "super_admin"}, headers=cookie(world) | HTMX)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    # a cross-site form post (no htmx header) is refused
    forged = await client.post(url, data={"roles": []}, headers=cookie(world))
    assert forged.status_code == 403
    assert (await client.get(f"{GROUPS}/{group}/roles", headers=world.headers(world.a))).json()[
        "roles"
    ] == ["sales_agent", "staff"]
    # without `groups.manage` the section is not there, and saving is refused
    agent_page = await client.get(f"/admin/groups/{group}", headers=cookie(world, "agent"))
    assert agent_page.status_code == 200 and 'data-testid="group-roles"' not in agent_page.text
    denied = await client.post(url, data={"roles": []}, headers=cookie(world, "agent") | HTMX)
    assert denied.status_code == 403


async def test_the_group_page_names_the_codes_the_editor_lacks(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    keeper_id = await keeper(client, session, world)
    group = await new_group(client, world, "page_keepers")
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=keeper_id)
    headers = {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"} | HTMX
    refused = await client.post(
        f"/admin/groups/{group}/roles", data={"roles": "sales_agent"}, headers=headers
    )
    assert refused.status_code == 403 and 'data-testid="missing-permissions"' in refused.text
    assert "contact.read" in refused.text
