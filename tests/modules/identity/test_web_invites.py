"""Invitations on the People screen: invite with roles, resend or revoke in bulk (all or
nothing), seat refusals, and who may do it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}
PANEL = "/admin/users/invites"
BULK = "/admin/users/invites/bulk"


async def pending(client: httpx.AsyncClient, world: World) -> dict[str, dict[str, Any]]:
    r = await client.get("/v1/admin/users/invites", headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    return {i["email"]: i for i in r.json()}


async def invite(client: httpx.AsyncClient, world: World, email: str) -> httpx.Response:
    return await client.post(
        PANEL, data={"email": email, "roles": ["staff"]}, headers=cookie(world) | HTMX
    )


async def test_invite_then_resend_and_revoke_from_the_page(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get("/admin/users", headers=cookie(world))
    assert f'hx-get="{PANEL}"' in page.text
    sent = await invite(client, world, "new.one@alpha.test")
    assert sent.status_code == 201 and "Invitation sent." in sent.text
    assert "new.one@alpha.test" in sent.text
    await invite(client, world, "new.two@alpha.test")
    found = await pending(client, world)
    ids = [found["new.one@alpha.test"]["id"], found["new.two@alpha.test"]["id"]]
    resent = await client.post(
        BULK, data={"action": "resend", "invite_ids": ids}, headers=cookie(world) | HTMX
    )
    assert resent.status_code == 200 and "Invitations sent again." in resent.text
    after = await pending(client, world)
    assert [after[e]["sent_count"] for e in ("new.one@alpha.test", "new.two@alpha.test")] == [2, 2]
    revoked = await client.post(
        BULK, data={"action": "revoke", "invite_ids": ids[:1]}, headers=cookie(world) | HTMX
    )
    assert revoked.status_code == 200 and "new.one@alpha.test" not in revoked.text
    assert set(await pending(client, world)) >= {"new.two@alpha.test"}
    assert "new.one@alpha.test" not in await pending(client, world)


async def test_a_bulk_action_is_all_or_nothing(client: httpx.AsyncClient, world: World) -> None:
    await invite(client, world, "keep@alpha.test")
    await invite(client, world, "gone@alpha.test")
    found = await pending(client, world)
    keep, gone = found["keep@alpha.test"]["id"], found["gone@alpha.test"]["id"]
    await client.post(
        BULK, data={"action": "revoke", "invite_ids": [gone]}, headers=cookie(world) | HTMX
    )
    refused = await client.post(
        BULK, data={"action": "resend", "invite_ids": [keep, gone]}, headers=cookie(world) | HTMX
    )
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert (await pending(client, world))["keep@alpha.test"]["sent_count"] == 1


async def test_refusals_are_shown_beside_their_field(
    client: httpx.AsyncClient, world: World
) -> None:
    bad = await client.post(
        PANEL, data={"email": "not-an-address", "roles": ["staff"]}, headers=cookie(world) | HTMX
    )
    assert bad.status_code == 422 and 'id="invite-email-error"' in bad.text
    no_role = await client.post(PANEL, data={"email": "x@alpha.test"}, headers=cookie(world) | HTMX)
    assert no_role.status_code == 422 and 'id="invite-roles-error"' in no_role.text
    await invite(client, world, "twice@alpha.test")
    again = await invite(client, world, "twice@alpha.test")
    assert again.status_code == 409 and "already has a pending invitation" in again.text
    unknown = await client.post(
        BULK, data={"action": "forward", "invite_ids": ["x"]}, headers=cookie(world) | HTMX
    )
    assert unknown.status_code == 422


async def test_a_full_workspace_is_told_why(client: httpx.AsyncClient, world: World) -> None:
    """Bravo (DevFree, three seats) already has three people."""
    full = await client.post(
        PANEL,
        data={"email": "fourth@bravo.test", "roles": ["staff"]},
        headers=cookie(world, tenant="b") | HTMX,
    )
    assert full.status_code == 422 and "Every seat is taken" in full.text


async def test_who_may_invite(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get(PANEL, headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    member = await client.get(PANEL, headers=cookie(world, "member"))
    assert member.status_code == 403
    members_page = await client.get("/admin/users", headers=cookie(world, "member"))
    assert f'hx-get="{PANEL}"' not in members_page.text
    cross_site = await client.post(
        PANEL, data={"email": "cs@alpha.test", "roles": ["staff"]}, headers=cookie(world)
    )
    assert cross_site.status_code == 403
    await invite(client, world, "theirs@alpha.test")
    theirs = (await pending(client, world))["theirs@alpha.test"]["id"]
    other_tenant = await client.post(
        BULK,
        data={"action": "revoke", "invite_ids": [theirs]},
        headers=cookie(world, tenant="b") | HTMX,
    )
    assert other_tenant.status_code == 404
    assert "theirs@alpha.test" in await pending(client, world)
