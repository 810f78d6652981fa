"""`/v1/contacts/{id}/followers`: follow, list, unfollow; inbox notices on update, owner
change and merge; the merge moves followers — and every negative path."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.notify.models import InboxEntry
from tests.conftest import World, error_code
from tests.factories import SeededTenant, bearer, make_user
from tests.modules.contacts.helpers import audit_rows, make_contact
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def staff(
    session: AsyncSession, world: World, *, status: UserStatus = UserStatus.ACTIVE
) -> tuple[UUID, dict[str, str]]:
    """A new user of tenant A with the `staff` role (reads contacts, is no admin)."""
    await bind_tenant(session, world.a.id, None)
    user = await make_user(
        session,
        tenant_id=world.a.id,
        email=f"staff-{uuid4().hex[:6]}@alpha.test",
        role="staff",
        status=status,
    )
    return user, bearer(world.settings, world.a.id, user)


async def notices(
    session: AsyncSession, tenant: SeededTenant, user_id: UUID, contact_id: UUID
) -> list[InboxEntry]:
    await bind_tenant(session, tenant.id, None)
    stmt = select(InboxEntry).where(
        InboxEntry.tenant_id == tenant.id,
        InboxEntry.recipient_user_id == user_id,
        InboxEntry.link_url == f"/contacts/{contact_id}",
    )
    return list((await session.execute(stmt)).scalars())


def url(contact_id: UUID) -> str:
    return f"/v1/contacts/{contact_id}/followers"


async def test_follow_list_notify_unfollow(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, first_name="Followed", owner_id=world.a.admin_id)
    staff_id, staff_headers = await staff(session, world)
    admin = world.headers(world.a)
    followed = await client.post(
        url(contact.id), json={"user_id": str(staff_id)}, headers=staff_headers
    )
    assert followed.status_code == 201, followed.text
    assert followed.json()["user_id"] == str(staff_id)
    assert (
        await client.post(url(contact.id), json={"user_id": str(world.a.admin_id)}, headers=admin)
    ).status_code == 201
    listed = (await client.get(url(contact.id), headers=staff_headers)).json()
    assert [f["user_id"] for f in listed] == [str(staff_id), str(world.a.admin_id)]
    assert await audit_rows(session, world.a, "contact.follower.added", contact.id)

    twice = await client.post(
        url(contact.id), json={"user_id": str(staff_id)}, headers=staff_headers
    )
    assert twice.status_code == 409 and error_code(twice) == "CONFLICT"

    changed = await client.patch(
        f"/v1/contacts/{contact.id}", json={"job_title": "Broker"}, headers=admin
    )
    assert changed.status_code == 200
    got = await notices(session, world.a, staff_id, contact.id)
    assert len(got) == 1 and "updated" in got[0].body and "Followed" in got[0].body
    assert await notices(session, world.a, world.a.admin_id, contact.id) == []  # the actor

    owner = await client.patch(
        f"/v1/contacts/{contact.id}", json={"owner_user_id": str(world.a.agent_id)}, headers=admin
    )
    assert owner.status_code == 200
    got = await notices(session, world.a, staff_id, contact.id)
    assert len(got) == 2 and any("changed the owner" in n.body for n in got)

    left = await client.delete(f"{url(contact.id)}/{staff_id}", headers=staff_headers)
    assert left.status_code == 204
    assert await audit_rows(session, world.a, "contact.follower.removed", contact.id)
    listed = (await client.get(url(contact.id), headers=admin)).json()
    assert [f["user_id"] for f in listed] == [str(world.a.admin_id)]
    again = await client.delete(f"{url(contact.id)}/{staff_id}", headers=staff_headers)
    assert again.status_code == 404


async def test_merge_moves_followers_and_tells_them(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    target = await make_contact(session, world.a, first_name="Target", owner_id=world.a.admin_id)
    source = await make_contact(session, world.a, first_name="Source", owner_id=world.a.admin_id)
    staff_id, _ = await staff(session, world)
    admin = world.headers(world.a)
    for contact_id, user_id in (
        (source.id, staff_id),
        (source.id, world.a.admin_id),
        (target.id, world.a.admin_id),
    ):
        added = await client.post(url(contact_id), json={"user_id": str(user_id)}, headers=admin)
        assert added.status_code == 201, added.text
    body = {"source_id": str(source.id), "target_id": str(target.id)}
    assert (await client.post("/v1/contacts/merge", json=body, headers=admin)).status_code == 200
    listed = (await client.get(url(target.id), headers=admin)).json()
    assert sorted(f["user_id"] for f in listed) == sorted([str(staff_id), str(world.a.admin_id)])
    got = await notices(session, world.a, staff_id, target.id)
    assert len(got) == 1 and "merged" in got[0].body


async def test_who_may_call(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    contact = await make_contact(session, world.a, owner_id=world.a.admin_id)
    staff_id, staff_headers = await staff(session, world)
    assert (await client.get(url(contact.id))).status_code == 401
    assert (await client.post(url(contact.id), json={"user_id": str(staff_id)})).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.get(url(contact.id), headers=member)).status_code == 403
    # staff may follow themselves, not make others follow or unfollow
    other = await client.post(
        url(contact.id), json={"user_id": str(world.a.agent_id)}, headers=staff_headers
    )
    assert other.status_code == 403
    admin = world.headers(world.a)
    assert (
        await client.post(url(contact.id), json={"user_id": str(world.a.agent_id)}, headers=admin)
    ).status_code == 201
    removed = await client.delete(f"{url(contact.id)}/{world.a.agent_id}", headers=staff_headers)
    assert removed.status_code == 403


async def test_hidden_contacts_are_404(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await make_contact(session, world.b)
    other_tenant = await client.post(
        url(theirs.id), json={"user_id": str(world.a.admin_id)}, headers=world.headers(world.a)
    )
    assert other_tenant.status_code == 404
    assert (await client.get(url(theirs.id), headers=world.headers(world.a))).status_code == 404
    private = await make_contact(session, world.a, owner_id=world.a.admin_id, is_private=True)
    staff_id, staff_headers = await staff(session, world)
    assert (
        await client.post(url(private.id), json={"user_id": str(staff_id)}, headers=staff_headers)
    ).status_code == 404
    assert (await client.get(url(private.id), headers=staff_headers)).status_code == 404


async def test_bad_users_are_422(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, owner_id=world.a.admin_id)
    private = await make_contact(session, world.a, owner_id=world.a.admin_id, is_private=True)
    inactive, _ = await staff(session, world, status=UserStatus.DEACTIVATED)
    staff_id, _ = await staff(session, world)
    admin = world.headers(world.a)
    for contact_id, user_id in (
        (contact.id, uuid4()),
        (contact.id, world.b.admin_id),
        (contact.id, inactive),
        (private.id, staff_id),  # cannot see the private contact
    ):
        response = await client.post(url(contact_id), json={"user_id": str(user_id)}, headers=admin)
        assert response.status_code == 422, (user_id, response.text)
        assert "user_id" in response.json()["error"]["details"]["fields"]


async def test_private_contact_notices_skip_those_who_cannot_see_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, first_name="Quiet", owner_id=world.a.admin_id)
    staff_id, staff_headers = await staff(session, world)
    assert (
        await client.post(url(contact.id), json={"user_id": str(staff_id)}, headers=staff_headers)
    ).status_code == 201
    admin = world.headers(world.a)
    hidden = await client.patch(
        f"/v1/contacts/{contact.id}", json={"is_private": True}, headers=admin
    )
    assert hidden.status_code == 200
    assert await notices(session, world.a, staff_id, contact.id) == []


async def test_profile_follow_button(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, first_name="Card", owner_id=world.a.admin_id)
    page = await client.get(f"/contacts/{contact.id}", headers=cookie(world, "agent"))
    assert page.status_code == 200 and f'hx-post="/contacts/{contact.id}/follow"' in page.text
    headers = cookie(world, "agent") | HTMX
    followed = await client.post(f"/contacts/{contact.id}/follow", headers=headers)
    assert followed.status_code == 200
    assert f'hx-post="/contacts/{contact.id}/unfollow"' in followed.text
    twice = await client.post(f"/contacts/{contact.id}/follow", headers=headers)
    assert twice.status_code == 409 and 'role="alert"' in twice.text
    page = await client.get(f"/contacts/{contact.id}", headers=cookie(world, "agent"))
    assert f'hx-post="/contacts/{contact.id}/unfollow"' in page.text
    left = await client.post(f"/contacts/{contact.id}/unfollow", headers=headers)
    assert left.status_code == 200 and f'hx-post="/contacts/{contact.id}/follow"' in left.text
    assert (await client.post(f"/contacts/{contact.id}/follow")).status_code in (401, 403)


async def test_reassigning_the_owner_tells_followers(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, first_name="Moved", owner_id=world.a.agent_id)
    staff_id, staff_headers = await staff(session, world)
    assert (
        await client.post(url(contact.id), json={"user_id": str(staff_id)}, headers=staff_headers)
    ).status_code == 201
    actor = SystemActor(world.a.id, world.a.admin_id)
    await contact_service.reassign_owner(session, actor, world.a.agent_id, world.a.admin_id)
    got = await notices(session, world.a, staff_id, contact.id)
    assert len(got) == 1 and "changed the owner" in got[0].body
