"""`/v1/admin/roles/hierarchy`, custom roles (`POST/PATCH/DELETE /v1/admin/roles`) and
`subordinate_user_ids`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import entitlements
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.entitlements import Entitlements
from m3crm.kernel.ids import TenantId
from m3crm.kernel.permission_codes import ROLE_TEMPLATES
from m3crm.modules.access.service import subordinate_user_ids
from tests.conftest import World, error_code
from tests.factories import bearer, make_user
from tests.modules.access.helpers import audit_rows, insert_edge, role_id

TREE = "/v1/admin/roles/hierarchy"
ROLES = "/v1/admin/roles"


def bearer_of(world: World, user_id: UUID) -> dict[str, str]:
    return bearer(world.settings, world.a.id, user_id)


async def link(
    client: httpx.AsyncClient, session: AsyncSession, world: World, parent: str, child: str
) -> httpx.Response:
    body = {
        "parent_role_id": str(await role_id(session, world.a.id, parent)),
        "child_role_id": str(await role_id(session, world.a.id, child)),
    }
    return await client.post(TREE, headers=world.headers(world.a), json=body)


async def test_edges_add_list_remove_audited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    r = await link(client, session, world, "sales_manager", "sales_agent")
    assert r.status_code == 201, r.text
    edge = r.json()
    assert (edge["parent_code"], edge["child_code"]) == ("sales_manager", "sales_agent")
    h = world.headers(world.a)
    assert [e["id"] for e in (await client.get(TREE, headers=h)).json()] == [edge["id"]]
    assert (await client.delete(f"{TREE}/{edge['id']}", headers=h)).status_code == 204
    assert (await client.get(TREE, headers=h)).json() == []
    assert (await client.delete(f"{TREE}/{edge['id']}", headers=h)).status_code == 404
    [(before, after, _)] = await audit_rows(session, world.a.id, "role.hierarchy.added")
    assert before is None and after == {"parent": "sales_manager", "child": "sales_agent"}
    [(before, after, _)] = await audit_rows(session, world.a.id, "role.hierarchy.removed")
    assert before == {"parent": "sales_manager", "child": "sales_agent"} and after is None


async def test_cycle_is_409_with_its_path(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    assert (await link(client, session, world, "sales_manager", "sales_agent")).status_code == 201
    assert (await link(client, session, world, "sales_agent", "viewer")).status_code == 201
    r = await link(client, session, world, "viewer", "sales_manager")
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    assert r.json()["error"]["details"]["cycle"] == [
        "viewer",
        "sales_manager",
        "sales_agent",
        "viewer",
    ]
    # a two-role cycle too; a duplicate edge is its own 409 without a path
    r = await link(client, session, world, "sales_agent", "sales_manager")
    assert r.json()["error"]["details"]["cycle"] == ["sales_agent", "sales_manager", "sales_agent"]
    r = await link(client, session, world, "sales_manager", "sales_agent")
    assert r.status_code == 409 and "cycle" not in r.json()["error"]["details"]


async def test_bad_edges_are_422(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    r = await link(client, session, world, "viewer", "viewer")
    assert r.status_code == 422 and "child_role_id" in r.json()["error"]["details"]["fields"]
    foreign = await role_id(session, world.b.id, "viewer")
    body = {"parent_role_id": str(foreign), "child_role_id": str(foreign)}
    r = await client.post(TREE, headers=world.headers(world.a), json=body)
    assert r.status_code == 422
    assert set(r.json()["error"]["details"]["fields"]) == {"parent_role_id", "child_role_id"}
    r = await client.post(TREE, headers=world.headers(world.a), json={"parent_role_id": "x"})
    assert r.status_code == 422


async def test_hierarchy_guards(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (await client.get(TREE)).status_code == 401
    assert (await client.get(TREE, headers=world.headers(world.a, "member"))).status_code == 403
    r = await link(client, session, world, "staff", "viewer")
    edge_id = r.json()["id"]
    r = await client.delete(f"{TREE}/{edge_id}", headers=world.headers(world.a, "agent"))
    assert r.status_code == 403
    r = await client.delete(f"{TREE}/{edge_id}", headers=world.headers(world.b))
    assert r.status_code == 404
    assert (await client.get(TREE, headers=world.headers(world.b))).json() == []

    async def no_tree(session: AsyncSession, tenant_id: TenantId) -> Entitlements:
        return Entitlements(plan_code="Bare")

    monkeypatch.setattr(entitlements, "_loader", no_tree)
    r = await client.get(TREE, headers=world.headers(world.a))
    assert r.status_code == 402 and r.json()["error"]["details"] == {
        "feature": "rbac.roleHierarchy"
    }


async def test_subordinates_follow_the_tree(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    lead = await make_user(
        session, tenant_id=world.a.id, email="lead@alpha.test", role="sales_agent"
    )
    watcher = await make_user(session, tenant_id=world.a.id, email="v@alpha.test", role="viewer")
    await make_user(session, tenant_id=world.a.id, email="s@alpha.test", role="staff")
    manager = world.a.agent_id  # holds sales_manager
    await insert_edge(session, world.a.id, "sales_manager", "sales_agent")
    edge = await insert_edge(session, world.a.id, "sales_agent", "viewer")
    assert await subordinate_user_ids(session, world.a.id, manager) == {lead, watcher}
    assert await subordinate_user_ids(session, world.a.id, lead) == {watcher}
    assert await subordinate_user_ids(session, world.a.id, watcher) == set()
    # cutting an edge counts at once
    r = await client.delete(f"{TREE}/{edge}", headers=world.headers(world.a))
    assert r.status_code == 204
    assert await subordinate_user_ids(session, world.a.id, manager) == {lead}


async def new_role(client: httpx.AsyncClient, world: World, **body: Any) -> httpx.Response:
    return await client.post(ROLES, headers=world.headers(world.a), json=body)


async def test_custom_role_lifecycle(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    perms = ["contact.read", "contact.update"]
    r = await new_role(client, world, code="closer", name="Closer", permissions=perms)
    assert r.status_code == 201, r.text
    role = r.json()
    assert role["is_system"] is False and role["user_count"] == 0
    h, url = world.headers(world.a), f"{ROLES}/{role['id']}"

    r = await client.patch(
        url, headers=h, json={"name": "Deal closer", "permissions": ["deal.read"]}
    )
    assert r.status_code == 200, r.text
    assert [p["code"] for p in r.json()["permissions"]] == ["deal.read"]

    assert (await client.delete(url, headers=h)).status_code == 204
    assert "closer" not in {x["code"] for x in (await client.get(ROLES, headers=h)).json()}

    [(_, after, _)] = await audit_rows(session, world.a.id, "role.created")
    assert after == {"code": "closer", "name": "Closer", "permissions": perms}
    [(before, after, _)] = await audit_rows(session, world.a.id, "role.updated")
    assert before == {"name": "Closer", "permissions": perms}
    assert after == {"name": "Deal closer", "permissions": ["deal.read"]}
    [(before, after, _)] = await audit_rows(session, world.a.id, "role.deleted")
    assert before["code"] == "closer" and after is None


async def test_custom_role_refusals(client: httpx.AsyncClient, world: World) -> None:
    r = await new_role(client, world, code="odd", name="Odd", permissions=["no.such.code"])
    assert r.status_code == 422 and "permissions" in r.json()["error"]["details"]["fields"]
    r = await new_role(client, world, code="viewer", name="Again")
    assert r.status_code == 409
    r = await client.post(
        ROLES, headers=world.headers(world.a, "agent"), json={"code": "mine", "name": "Mine"}
    )
    assert r.status_code == 403


async def test_nobody_grants_what_they_lack(client: httpx.AsyncClient, world: World) -> None:
    """A role manager holding only `roles.manage` cannot make a role with other codes."""
    r = await new_role(client, world, code="role_keeper", name="K", permissions=["roles.manage"])
    assert r.status_code == 201
    h = world.headers(world.a)
    r = await client.post(
        f"/v1/admin/users/{world.a.member_id}/roles", headers=h, json={"assign": ["role_keeper"]}
    )
    assert r.status_code == 200, r.text
    keeper = world.headers(world.a, "member")
    body = {"code": "wider", "name": "Wider", "permissions": ["contact.read"]}
    r = await client.post(ROLES, headers=keeper, json=body)
    assert r.status_code == 403
    assert r.json()["error"]["details"] == {"permissions": ["contact.read"]}
    body["permissions"] = ["roles.manage"]
    assert (await client.post(ROLES, headers=keeper, json=body)).status_code == 201


async def test_system_role_permissions_are_fixed(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    url = f"{ROLES}/{await role_id(session, world.a.id, 'viewer')}"
    h = world.headers(world.a)
    r = await client.patch(url, headers=h, json={"permissions": ["contact.read"]})
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    r = await client.patch(url, headers=h, json={"name": "Read only"})
    assert r.status_code == 200
    assert {p["code"] for p in r.json()["permissions"]} == ROLE_TEMPLATES["viewer"]
    assert (await client.delete(url, headers=h)).status_code == 409


async def test_role_in_use_cannot_be_deleted(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    role = (await new_role(client, world, code="temp", name="Temp")).json()
    h = world.headers(world.a)
    r = await client.post(
        f"/v1/admin/users/{world.a.member_id}/roles", headers=h, json={"assign": ["temp"]}
    )
    assert r.status_code == 200, r.text
    r = await client.delete(f"{ROLES}/{role['id']}", headers=h)
    assert r.status_code == 409
    details = r.json()["error"]["details"]
    assert [UUID(u["id"]) for u in details["users"]] == [world.a.member_id]
    assert set(details) == {"users"}  # roles are held by users only, never by groups


async def test_roles_max_is_422(client: httpx.AsyncClient, world: World) -> None:
    """DevFree (tenant B) allows 15 roles; the 9 seeded ones count."""
    h = world.headers(world.b)
    for n in range(15 - len(ROLE_TEMPLATES)):
        r = await client.post(ROLES, headers=h, json={"code": f"extra_{n}", "name": f"Extra {n}"})
        assert r.status_code == 201, r.text
    r = await client.post(ROLES, headers=h, json={"code": "too_many", "name": "Too many"})
    assert r.status_code == 422 and error_code(r) == "LIMIT_REACHED"
    assert r.json()["error"]["details"] == {"key": "roles.max", "limit": 15}


async def test_a_role_inherits_the_permissions_of_the_roles_below_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """`sales_manager` lacks `customfields.manage`; placed above a role carrying it, its
    holders hold it at once — in the authentication of the next request and in the
    "why" — and lose it when the edge goes."""
    admin = world.headers(world.a)
    keeper = await client.post(
        ROLES,
        headers=admin,
        json={"code": "fields_keeper", "name": "Fields", "permissions": ["customfields.manage"]},
    )
    assert keeper.status_code == 201, keeper.text
    await bind_tenant(session, world.a.id, None)
    manager = await make_user(
        session, tenant_id=world.a.id, email="inherit@a.test", role="sales_manager"
    )
    as_manager = bearer_of(world, manager)
    body = {"entity": "contact", "code": "floor", "label": "Floor", "type": "number"}
    before = await client.post("/v1/custom-fields/definitions", headers=as_manager, json=body)
    assert before.status_code == 403
    edge = await link(client, session, world, "sales_manager", "fields_keeper")
    assert edge.status_code == 201, edge.text
    after = await client.post("/v1/custom-fields/definitions", headers=as_manager, json=body)
    assert after.status_code == 201, after.text
    why = await client.get(f"/v1/admin/users/{manager}/effective-permissions", headers=admin)
    granted = {p["code"]: p for p in why.json()["permissions"]}
    assert granted["customfields.manage"]["granted_by"] == ["sales_manager"]
    assert granted["customfields.manage"]["inherited_from"] == ["fields_keeper"]
    assert granted["contact.read"]["inherited_from"] == []
    removed = await client.delete(f"{TREE}/{edge.json()['id']}", headers=admin)
    assert removed.status_code == 204
    gone = await client.post(
        "/v1/custom-fields/definitions", headers=as_manager, json=body | {"code": "floor2"}
    )
    assert gone.status_code == 403


async def test_nobody_places_above_a_role_rights_they_lack(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """Placing a role under another hands its permissions to the upper role's holders:
    the caller must hold every code the lower role carries (itself or below it)."""
    admin = world.headers(world.a)
    made = await client.post(
        ROLES,
        headers=admin,
        json={
            "code": "tree_keeper",
            "name": "Tree keeper",
            "permissions": ["role.read", "roles.hierarchy.manage"],
        },
    )
    assert made.status_code == 201, made.text
    await bind_tenant(session, world.a.id, None)
    keeper = await make_user(session, tenant_id=world.a.id, email="tree@a.test", role="tree_keeper")
    body = {
        "parent_role_id": str(await role_id(session, world.a.id, "staff")),
        "child_role_id": str(await role_id(session, world.a.id, "admin")),
    }
    refused = await client.post(TREE, headers=bearer_of(world, keeper), json=body)
    assert refused.status_code == 403 and error_code(refused) == "PERMISSION_DENIED"
    assert "user.manage" in refused.json()["error"]["details"]["permissions"]
    body["child_role_id"] = made.json()["id"]  # carries only what the keeper holds
    allowed = await client.post(TREE, headers=bearer_of(world, keeper), json=body)
    assert allowed.status_code == 201, allowed.text
