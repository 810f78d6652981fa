"""A status change needs its own permission however it is asked for: `PATCH` with only
`user.update` cannot suspend, deactivate or reinstate (403), and with the right it does
what the lifecycle endpoint does."""

from __future__ import annotations

from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from tests.conftest import World


async def give_member(client: httpx.AsyncClient, world: World, permissions: list[str]) -> None:
    admin = world.headers(world.a)
    code = f"ed{uuid4().hex[:6]}"
    made = await client.post(
        "/v1/admin/roles",
        json={"code": code, "name": f"Editor {code}", "permissions": permissions},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    given = await client.post(
        f"/v1/admin/users/{world.a.member_id}/roles", json={"assign": [code]}, headers=admin
    )
    assert given.status_code == 200, given.text


@pytest.mark.parametrize(
    ("target", "right"), [("suspended", "user.suspend"), ("deactivated", "user.deactivate")]
)
async def test_patch_status_needs_the_lifecycle_permission(
    client: httpx.AsyncClient, world: World, target: str, right: str
) -> None:
    await give_member(client, world, ["user.read", "user.update"])
    member = world.headers(world.a, "member")
    url = f"/v1/admin/users/{world.a.agent_id}"
    refused = await client.patch(url, json={"status": target}, headers=member)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["details"]["permission"] == right
    assert (await client.get(url, headers=world.headers(world.a))).json()["status"] == "active"
    renamed = await client.patch(url, json={"full_name": "Renamed Agent"}, headers=member)
    assert renamed.status_code == 200  # the profile part stays `user.update`'s


async def test_patch_reinstate_needs_user_reinstate(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers(world.a)
    url = f"/v1/admin/users/{world.a.agent_id}"
    assert (await client.post(f"{url}/suspend", headers=admin)).status_code == 200
    await give_member(client, world, ["user.read", "user.update"])
    refused = await client.patch(
        url, json={"status": "active"}, headers=world.headers(world.a, "member")
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["permission"] == "user.reinstate"


async def test_patch_with_the_right_suspends_like_the_endpoint(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await give_member(client, world, ["user.read", "user.update", "user.suspend"])
    url = f"/v1/admin/users/{world.a.agent_id}"
    done = await client.patch(
        url, json={"status": "suspended"}, headers=world.headers(world.a, "member")
    )
    assert done.status_code == 200 and done.json()["status"] == "suspended"
    actions = (
        await session.execute(
            select(AuditLog.action).where(AuditLog.entity_id == str(world.a.agent_id))
        )
    ).scalars()
    assert "user.suspended" in set(actions)
