"""Nobody invites someone into a role granting more than they hold (API and the People
screen's invite panel share `invites.check_roles`)."""

from __future__ import annotations

from uuid import uuid4

import httpx

from tests.conftest import World
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def make_recruiter(client: httpx.AsyncClient, world: World) -> str:
    """Give world A's member a custom role holding `user.invite` only; its code."""
    admin = world.headers(world.a)
    code = f"recr{uuid4().hex[:6]}"
    made = await client.post(
        "/v1/admin/roles",
        json={"code": code, "name": "Recruiter", "permissions": ["user.invite"]},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    given = await client.post(
        f"/v1/admin/users/{world.a.member_id}/roles", json={"assign": [code]}, headers=admin
    )
    assert given.status_code == 200, given.text
    return code


async def test_api_invite_refuses_a_role_beyond_the_inviters_rights(
    client: httpx.AsyncClient, world: World
) -> None:
    code = await make_recruiter(client, world)
    member = world.headers(world.a, "member")
    refused = await client.post(
        "/v1/admin/users/invite",
        json={"email": f"x{uuid4().hex[:6]}@example.com", "roles": ["admin"]},
        headers=member,
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "PERMISSION_DENIED"
    assert "user.delete" in refused.json()["error"]["details"]["permissions"]
    allowed = await client.post(
        "/v1/admin/users/invite",
        json={"email": f"y{uuid4().hex[:6]}@example.com", "roles": [code]},
        headers=member,
    )
    assert allowed.status_code == 201, allowed.text


async def test_invite_panel_refuses_a_role_beyond_the_inviters_rights(
    client: httpx.AsyncClient, world: World
) -> None:
    code = await make_recruiter(client, world)
    member = cookie(world, "member") | HTMX
    email = f"p{uuid4().hex[:6]}@example.com"
    refused = await client.post(
        "/admin/users/invites", data={"email": email, "roles": ["admin"]}, headers=member
    )
    assert refused.status_code == 403
    assert "You do not have permission to do this." in refused.text
    assert email not in refused.text
    sent = await client.post(
        "/admin/users/invites", data={"email": email, "roles": [code]}, headers=member
    )
    assert sent.status_code == 201 and "Invitation sent." in sent.text
