"""`/v1/admin/roles`, `/v1/admin/roles/{id}/permissions`, `/v1/admin/users/{id}/roles`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.permission_codes import ROLE_TEMPLATES
from tests.conftest import World, error_code
from tests.factories import make_user


async def new_user(session: AsyncSession, world: World, email: str, role: str) -> UUID:
    await bind_tenant(session, world.a.id, None)
    return await make_user(session, tenant_id=world.a.id, email=email, role=role)


async def roles(client: httpx.AsyncClient, world: World, user: str = "admin") -> Any:
    r = await client.get("/v1/admin/roles", headers=world.headers(world.a, user))
    assert r.status_code == 200, r.text
    return {role["code"]: role for role in r.json()}


async def audit_rows(session: AsyncSession, world: World, action: str) -> list[Any]:
    await bind_tenant(session, world.a.id, None)
    result = await session.execute(
        text(
            "SELECT before_data, after_data, entity_id FROM audit_logs"
            " WHERE tenant_id = :t AND action = :a ORDER BY id"
        ),
        {"t": world.a.id, "a": action},
    )
    return list(result.all())


def change(client: httpx.AsyncClient, world: World, user_id: UUID, **body: Any) -> Any:
    return client.post(
        f"/v1/admin/users/{user_id}/roles", headers=world.headers(world.a), json=body
    )


async def test_list_roles_with_user_counts(client: httpx.AsyncClient, world: World) -> None:
    found = await roles(client, world)
    assert set(ROLE_TEMPLATES) <= set(found)
    assert found["admin"]["user_count"] >= 1 and found["admin"]["is_system"] is True
    assert found["sales_manager"]["user_count"] >= 1
    assert found["viewer"]["user_count"] == 0
    assert {"id", "code", "name", "is_system", "user_count"} == set(found["admin"])


async def test_role_permissions(client: httpx.AsyncClient, world: World) -> None:
    role = (await roles(client, world))["viewer"]
    r = await client.get(
        f"/v1/admin/roles/{role['id']}/permissions", headers=world.headers(world.a)
    )
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == "viewer"
    assert {p["code"] for p in body["permissions"]} == ROLE_TEMPLATES["viewer"]
    assert all(p["description"] for p in body["permissions"])


async def test_role_permissions_of_other_tenant_is_404(
    client: httpx.AsyncClient, world: World
) -> None:
    role = (await roles(client, world))["admin"]
    r = await client.get(
        f"/v1/admin/roles/{role['id']}/permissions", headers=world.headers(world.b)
    )
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


async def test_assign_and_remove_are_audited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "roles@alpha.test", "staff")
    r = await change(client, world, user, assign=["viewer", "sales_agent"], remove=["staff"])
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": str(user), "roles": ["sales_agent", "viewer"]}
    changed = await audit_rows(session, world, "user.role.changed")
    assert changed[-1].before_data == {"roles": ["staff"]}
    assert changed[-1].after_data == {"roles": ["sales_agent", "viewer"]}
    assert changed[-1].entity_id == str(user)
    # Idempotent: assigning a held role and removing an absent one record nothing.
    r = await change(client, world, user, assign=["viewer"], remove=["staff"])
    assert r.status_code == 200 and r.json()["roles"] == ["sales_agent", "viewer"]
    assert len(await audit_rows(session, world, "user.role.changed")) == len(changed)
    assert (await roles(client, world))["viewer"]["user_count"] == 1


async def test_unknown_role_code_is_422(client: httpx.AsyncClient, world: World) -> None:
    r = await change(client, world, world.a.member_id, assign=["emperor"])
    assert r.status_code == 422 and "assign" in r.json()["error"]["details"]["fields"]
    r = await change(client, world, world.a.member_id, assign=["staff"], remove=["staff"])
    assert r.status_code == 422
    r = await change(client, world, world.a.member_id, assign=["Not A Code"])
    assert r.status_code == 422
    r = await change(client, world, world.a.member_id, grant=["staff"])
    assert r.status_code == 422


async def test_user_of_other_tenant_is_404(client: httpx.AsyncClient, world: World) -> None:
    r = await change(client, world, world.b.member_id, assign=["staff"])
    assert r.status_code == 404


async def test_cannot_remove_own_admin_rights(client: httpx.AsyncClient, world: World) -> None:
    r = await change(client, world, world.a.admin_id, remove=["admin"])
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    # With another role that keeps `role.assign`, it is allowed.
    r = await change(client, world, world.a.admin_id, assign=["super_admin"], remove=["admin"])
    assert r.status_code == 200 and r.json()["roles"] == ["super_admin"]


async def test_cannot_remove_last_super_admin(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    boss = await new_user(session, world, "boss@alpha.test", "super_admin")
    r = await change(client, world, boss, remove=["super_admin"])
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    second = await new_user(session, world, "boss2@alpha.test", "super_admin")
    r = await change(client, world, boss, remove=["super_admin"])
    assert r.status_code == 200 and r.json()["roles"] == []
    r = await change(client, world, second, remove=["super_admin"])
    assert r.status_code == 409


async def test_cannot_grant_rights_one_lacks(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    await session.execute(
        text(
            "DELETE FROM role_permissions WHERE tenant_id = :t AND permission_code = 'audit.export'"
            " AND role_id = (SELECT id FROM roles WHERE tenant_id = :t AND code = 'admin')"
        ),
        {"t": world.a.id},
    )
    r = await change(client, world, world.a.member_id, assign=["super_admin"])
    assert r.status_code == 403 and r.json()["error"]["details"]["permissions"] == ["audit.export"]


async def test_anonymous_401_and_missing_permission_403(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await client.get("/v1/admin/roles")).status_code == 401
    for user in ("member", "agent"):
        r = await client.get("/v1/admin/roles", headers=world.headers(world.a, user))
        assert r.status_code == 403 and error_code(r) == "PERMISSION_DENIED"
        r = await client.post(
            f"/v1/admin/users/{world.a.member_id}/roles",
            headers=world.headers(world.a, user),
            json={"assign": ["staff"]},
        )
        assert r.status_code == 403
