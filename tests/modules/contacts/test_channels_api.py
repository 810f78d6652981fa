"""`/v1/contacts/{id}/channels` and consent (`opt-in` / `opt-out`)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.notify.consent import add_stop
from tests.conftest import World, error_code
from tests.modules.contacts.helpers import audit_rows, make_contact
from tests.modules.contacts.test_contacts_api import staff_headers


def url(contact_id: object, rest: str = "channels") -> str:
    return f"/v1/contacts/{contact_id}/{rest}"


async def test_add_channel_keeps_one_primary(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, email="first@example.test")
    headers = world.headers(world.a)
    response = await client.post(
        url(contact.id),
        json={"type": "email", "value": "Second@Example.test", "is_primary": True},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    shown = (await client.get(f"/v1/contacts/{contact.id}", headers=headers)).json()
    primaries = {c["normalized_value"]: c["is_primary"] for c in shown["channels"]}
    assert primaries == {"first@example.test": False, "second@example.test": True}
    assert await audit_rows(session, world.a, "contact.channel.added", contact.id)


async def test_channel_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, phone="+201001112233")
    other = await make_contact(session, world.a, first_name="Other", phone="+201004445566")
    theirs = await make_contact(session, world.b)
    headers = world.headers(world.a)
    body = {"type": "whatsapp", "value": "+201004445566"}
    assert (await client.post(url(contact.id), json=body)).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.post(url(contact.id), json=body, headers=member)).status_code == 403
    assert (await client.post(url(theirs.id), json=body, headers=headers)).status_code == 404
    assert (await client.post(url(theirs.id), json={}, headers=headers)).status_code == 404
    dup = await client.post(url(contact.id), json=body, headers=headers)
    assert dup.status_code == 409
    assert dup.json()["error"]["details"]["existing_id"] == str(other.id)
    bad = await client.post(
        url(contact.id), json={"type": "phone", "value": "abc"}, headers=headers
    )
    assert bad.status_code == 422
    same = {"type": "whatsapp", "value": "+201001112233"}
    assert (await client.post(url(contact.id), json=same, headers=headers)).status_code == 201


async def test_update_value_clears_verification_and_remove(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, email="old@example.test")
    await bind_tenant(session, world.a.id, None)
    channel_id = (
        await session.execute(
            text(
                "UPDATE contact_channels SET verified_at = now() WHERE tenant_id = :t"
                " AND contact_id = :c RETURNING id"
            ),
            {"t": world.a.id, "c": contact.id},
        )
    ).scalar_one()
    headers = world.headers(world.a)
    patched = await client.patch(
        url(contact.id, f"channels/{channel_id}"),
        json={"value": "new@example.test"},
        headers=headers,
    )
    assert patched.status_code == 200
    assert patched.json()["verified_at"] is None
    assert patched.json()["normalized_value"] == "new@example.test"
    gone = await client.delete(url(contact.id, f"channels/{channel_id}"), headers=headers)
    assert gone.status_code == 204
    again = await client.delete(url(contact.id, f"channels/{channel_id}"), headers=headers)
    assert again.status_code == 404


async def test_staff_cannot_change_channels_of_others(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, owner_id=world.a.admin_id)
    headers = await staff_headers(session, world)
    body = {"type": "email", "value": "x@example.test"}
    assert (await client.post(url(contact.id), json=body, headers=headers)).status_code == 403


async def channel_of(session: AsyncSession, world: World, contact_id: object) -> str:
    await bind_tenant(session, world.a.id, None)
    value = (
        await session.execute(
            text("SELECT id FROM contact_channels WHERE tenant_id = :t AND contact_id = :c"),
            {"t": world.a.id, "c": contact_id},
        )
    ).scalar_one()
    return str(value)


async def test_opt_in_and_out_go_through_the_consent_history(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, email="consent@example.test")
    channel = await channel_of(session, world, contact.id)
    headers = world.headers(world.a, "agent")
    body = {"channel_id": channel, "source": "web_form", "text": "I agree to news."}
    opted = await client.post(url(contact.id, "opt-in"), json=body, headers=headers)
    assert opted.status_code == 200, opted.text
    assert opted.json()["opt_in"] is True and opted.json()["opt_in_source"] == "web_form"
    out = await client.post(url(contact.id, "opt-out"), json=body, headers=headers)
    assert out.json()["opt_in"] is False and out.json()["opt_out_at"] is not None
    history = (
        await session.execute(
            text(
                "SELECT action FROM channel_opt_ins WHERE tenant_id = :t AND subject_id = :s"
                " ORDER BY consent_at, id"
            ),
            {"t": world.a.id, "s": contact.id},
        )
    ).scalars()
    assert list(history) == ["opt_in", "opt_out"]
    assert await audit_rows(session, world.a, "contact.opted_in", contact.id)
    assert await audit_rows(session, world.a, "contact.opted_out", contact.id)


async def test_consent_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, phone="+201007778899")
    channel = await channel_of(session, world, contact.id)
    theirs = await make_contact(session, world.b)
    body = {"channel_id": channel, "source": "call"}
    headers = world.headers(world.a)
    assert (await client.post(url(contact.id, "opt-in"), json=body)).status_code == 401
    staff = await staff_headers(session, world)
    assert (
        await client.post(url(contact.id, "opt-in"), json=body, headers=staff)
    ).status_code == 403
    assert (
        await client.post(url(theirs.id, "opt-in"), json=body, headers=headers)
    ).status_code == 404
    unknown = {"channel_id": str(theirs.id), "source": "call"}
    assert (
        await client.post(url(contact.id, "opt-in"), json=unknown, headers=headers)
    ).status_code == 404
    assert (
        await client.post(url(contact.id, "opt-in"), json={"channel_id": channel}, headers=headers)
    ).status_code == 422
    await bind_tenant(session, world.a.id, None)
    await add_stop(session, world.a.id, "+201007778899", "keyword")
    stopped = await client.post(url(contact.id, "opt-in"), json=body, headers=headers)
    assert stopped.status_code == 409
    assert error_code(stopped) == "CONFLICT"
