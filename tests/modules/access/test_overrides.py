"""Entitlement overrides: `/v1/admin/entitlements/overrides/{tenant,group/{id},user/{id}}`,
effective entitlements with their source, and the precedence plan < tenant < groups
(max / any) < user, applied by `require_feature` on the next request."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import new_id
from tests.conftest import World, error_code
from tests.factories import make_user
from tests.modules.access.helpers import audit_rows, insert_group

BASE = "/v1/admin/entitlements/overrides"


async def put(client: httpx.AsyncClient, world: World, path: str, **body: Any) -> Any:
    r = await client.put(f"{BASE}/{path}", headers=world.headers(world.a), json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def join(session: AsyncSession, world: World, group_id: UUID, user_id: UUID) -> None:
    await bind_tenant(session, world.a.id, None)
    await session.execute(
        text(
            "INSERT INTO group_members (tenant_id, id, group_id, user_id) VALUES (:t, :i, :g, :u)"
        ),
        {"t": world.a.id, "i": new_id(), "g": group_id, "u": user_id},
    )


async def effective(client: httpx.AsyncClient, world: World, user_id: UUID) -> dict[str, Any]:
    r = await client.get(
        f"/v1/admin/users/{user_id}/effective-entitlements", headers=world.headers(world.a)
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return {
        "features": {f["key"]: (f["enabled"], f["source"]) for f in body["features"]},
        "limits": {x["key"]: (x["value"], x["source"]) for x in body["limits"]},
    }


async def test_precedence_table(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    user = await make_user(session, tenant_id=world.a.id, email="ov@a.test", role="staff")
    g1 = await insert_group(session, world.a.id, "aa_small")
    g2 = await insert_group(session, world.a.id, "bb_large")
    await join(session, world, g1, user)
    await join(session, world, g2, user)

    # Plan only.
    eff = await effective(client, world, user)
    assert eff["limits"]["roles.max"] == (100, "plan:DevPro")
    assert eff["features"]["rbac.groups"] == (True, "plan:DevPro")

    # Tenant override.
    await put(client, world, "tenant", features={"rbac.groups": False}, limits={"roles.max": 7})
    eff = await effective(client, world, user)
    assert eff["limits"]["roles.max"] == (7, "tenant override")
    assert eff["features"]["rbac.groups"] == (False, "tenant override")

    # Two groups with different limits: the larger wins; one group enabling a feature
    # enables it even though the other disables it.
    await put(
        client, world, f"group/{g1}", features={"rbac.groups": False}, limits={"roles.max": 3}
    )
    await put(client, world, f"group/{g2}", features={"rbac.groups": True}, limits={"roles.max": 9})
    eff = await effective(client, world, user)
    assert eff["limits"]["roles.max"] == (9, "group:bb_large")
    assert eff["features"]["rbac.groups"] == (True, "group:bb_large")
    # A user in no group still sees the tenant override.
    admin = await effective(client, world, world.a.admin_id)
    assert admin["limits"]["roles.max"] == (7, "tenant override")

    # The user override beats the groups.
    await put(client, world, f"user/{user}", limits={"roles.max": 1})
    eff = await effective(client, world, user)
    assert eff["limits"]["roles.max"] == (1, "user override")
    assert eff["features"]["rbac.groups"] == (True, "group:bb_large")

    # `?userId=` answers the same; without it, the caller.
    r = await client.get(
        f"/v1/admin/entitlements/effective?userId={user}", headers=world.headers(world.a)
    )
    assert r.status_code == 200
    assert {x["key"]: x["value"] for x in r.json()["limits"]}["roles.max"] == 1
    r = await client.get("/v1/admin/entitlements/effective", headers=world.headers(world.a))
    assert r.json()["user_id"] == str(world.a.admin_id)

    # GET returns the stored set; an empty PUT removes it.
    r = await client.get(f"{BASE}/group/{g2}", headers=world.headers(world.a))
    assert r.json() == {"features": {"rbac.groups": True}, "limits": {"roles.max": 9}}
    assert await put(client, world, f"group/{g2}") == {"features": {}, "limits": {}}
    eff = await effective(client, world, user)
    assert eff["features"]["rbac.groups"] == (False, "group:aa_small")


async def test_user_override_flips_a_gated_endpoint_on_the_next_request(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    h = world.headers(world.a)
    assert (await client.get("/v1/admin/groups", headers=h)).status_code == 200
    await put(client, world, "tenant", features={"rbac.groups": False})
    r = await client.get("/v1/admin/groups", headers=h)
    assert r.status_code == 402 and error_code(r) == "PLAN_REQUIRED"
    await put(client, world, f"user/{world.a.admin_id}", features={"rbac.groups": True})
    assert (await client.get("/v1/admin/groups", headers=h)).status_code == 200

    rows = await audit_rows(session, world.a.id, "entitlement.override.changed")
    assert [(r.before_data, r.after_data) for r in rows] == [
        ({"features": {}}, {"features": {"rbac.groups": False}}),
        ({"features": {}}, {"features": {"rbac.groups": True}}),
    ]


async def test_errors(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    h = world.headers(world.a)
    # 401 without a token.
    assert (await client.get(f"{BASE}/tenant")).status_code == 401
    # 403: the member holds no role.
    member = world.headers(world.a, "member")
    assert (await client.get(f"{BASE}/tenant", headers=member)).status_code == 403
    r = await client.put(f"{BASE}/tenant", headers=member, json={})
    assert r.status_code == 403
    # 402: the free plan has no overrides.
    r = await client.put(f"{BASE}/tenant", headers=world.headers(world.b), json={})
    assert r.status_code == 402 and error_code(r) == "PLAN_REQUIRED"
    # 404: another tenant's group or user.
    other_group = await insert_group(session, world.b.id)
    for path in (f"group/{other_group}", f"user/{world.b.admin_id}"):
        assert (await client.get(f"{BASE}/{path}", headers=h)).status_code == 404
        assert (await client.put(f"{BASE}/{path}", headers=h, json={})).status_code == 404
    for url in (
        f"/v1/admin/users/{world.b.admin_id}/effective-entitlements",
        f"/v1/admin/entitlements/effective?userId={world.b.admin_id}",
    ):
        assert (await client.get(url, headers=h)).status_code == 404
    # 422: unknown keys, a negative limit, the gate itself.
    for body, field in (
        ({"features": {"no.such": True}}, "features"),
        ({"features": {"admin.entitlementsOverrides": False}}, "features"),
        ({"limits": {"no.such.max": 1}}, "limits"),
        ({"limits": {"rbac.groups": 1}}, "limits"),
    ):
        r = await client.put(f"{BASE}/tenant", headers=h, json=body)
        assert r.status_code == 422, body
        assert field in r.json()["error"]["details"]["fields"], r.text
    r = await client.put(f"{BASE}/tenant", headers=h, json={"limits": {"roles.max": -1}})
    assert r.status_code == 422


async def test_service_checks_follow_the_persons_group_at_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """Not only the `require_feature` dependency: a check made inside a service (here,
    marking a contact private) reads the person's view, so joining and leaving a group
    with an override changes the answer on the next request."""
    await put(client, world, "tenant", features={"contacts.privateRecords": False})
    group = await insert_group(session, world.a.id, "private_ok")
    await put(client, world, f"group/{group}", features={"contacts.privateRecords": True})
    body = {"first_name": "Secret", "is_private": True}
    url = "/v1/contacts"
    refused = await client.post(url, json=body, headers=world.headers(world.a, "agent"))
    assert refused.status_code == 402 and error_code(refused) == "PLAN_REQUIRED"
    await join(session, world, group, world.a.agent_id)
    allowed = await client.post(url, json=body, headers=world.headers(world.a, "agent"))
    assert allowed.status_code == 201, allowed.text
    admin = await client.post(url, json=body, headers=world.headers(world.a))
    assert admin.status_code == 402
    await session.execute(
        text("DELETE FROM group_members WHERE group_id = :g AND user_id = :u"),
        {"g": group, "u": world.a.agent_id},
    )
    again = await client.post(url, json=body, headers=world.headers(world.a, "agent"))
    assert again.status_code == 402
