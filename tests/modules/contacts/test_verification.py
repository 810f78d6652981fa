"""Verifying a contact's number: `/v1/contacts/{id}/channels/{cid}/verify/start|confirm`."""

from __future__ import annotations

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.notify.models import OutboxMessage
from tests.conftest import World, error_code
from tests.modules.contacts.helpers import audit_rows, make_contact
from tests.modules.contacts.test_channels_api import channel_of


def url(contact_id: object, channel_id: str, step: str) -> str:
    return f"/v1/contacts/{contact_id}/channels/{channel_id}/verify/{step}"


async def sent_code(
    session: AsyncSession, world: World, number: str, family: str = "otp.verify_phone"
) -> str:
    await bind_tenant(session, world.a.id, None)
    rows = (
        await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == number, OutboxMessage.family == family)
            .order_by(OutboxMessage.id.desc())
        )
    ).scalars()
    return str(next(iter(rows)).payload["code"])


async def test_code_goes_through_the_outbox_and_verifies(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, phone="+201009990011")
    channel = await channel_of(session, world, contact.id)
    headers = world.headers(world.a)
    started = await client.post(url(contact.id, channel, "start"), headers=headers)
    assert started.status_code == 200, started.text
    code = await sent_code(session, world, "+201009990011")
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(
        url(contact.id, channel, "confirm"), json={"code": wrong}, headers=headers
    )
    assert refused.status_code == 422 and error_code(refused) == "AUTH_2FA_INVALID_CODE"
    assert refused.json()["error"]["details"]["attempts_left"] == 4
    confirmed = await client.post(
        url(contact.id, channel, "confirm"), json={"code": code}, headers=headers
    )
    assert confirmed.status_code == 200 and confirmed.json()["verified_at"] is not None
    assert await audit_rows(session, world.a, "contact.channel.verified", contact.id)
    again = await client.post(url(contact.id, channel, "start"), headers=headers)
    assert again.status_code == 409 and error_code(again) == "INVALID_TRANSITION"


async def test_an_email_address_is_verified_by_a_code_sent_to_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, first_name="Mail", email="mail@example.test")
    channel = await channel_of(session, world, contact.id)
    headers = world.headers(world.a)
    started = await client.post(url(contact.id, channel, "start"), headers=headers)
    assert started.status_code == 200, started.text
    code = await sent_code(session, world, "mail@example.test", "contact.verify_email")
    await bind_tenant(session, world.a.id, None)
    mail = (
        (
            await session.execute(
                select(OutboxMessage).where(OutboxMessage.family == "contact.verify_email")
            )
        )
        .scalars()
        .first()
    )
    assert mail is not None and mail.channel == "email" and code in mail.content["text"]
    confirmed = await client.post(
        url(contact.id, channel, "confirm"), json={"code": code}, headers=headers
    )
    assert confirmed.status_code == 200 and confirmed.json()["verified_at"] is not None


async def test_verification_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, phone="+201009990022")
    channel = await channel_of(session, world, contact.id)
    theirs = await make_contact(session, world.b, phone="+201009990033")
    headers = world.headers(world.a)
    assert (await client.post(url(contact.id, channel, "start"))).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.post(url(contact.id, channel, "start"), headers=member)).status_code == 403
    assert (await client.post(url(theirs.id, channel, "start"), headers=headers)).status_code == 404
    nothing = await client.post(
        url(contact.id, channel, "confirm"), json={"code": "123456"}, headers=headers
    )
    assert nothing.status_code == 404
    bad = await client.post(
        url(contact.id, channel, "confirm"), json={"code": "12"}, headers=headers
    )
    assert bad.status_code == 422
    assert (
        await client.post(url(contact.id, channel, "start"), headers=headers)
    ).status_code == 200
    too_soon = await client.post(url(contact.id, channel, "start"), headers=headers)
    assert too_soon.status_code == 429
    await session.execute(
        text("UPDATE contact_channels SET verification_expires_at = now() - interval '1 minute'"
             " WHERE tenant_id = :t AND id = :c"),
        {"t": world.a.id, "c": channel},
    )  # fmt: skip
    expired = await client.post(
        url(contact.id, channel, "confirm"), json={"code": "123456"}, headers=headers
    )
    assert expired.status_code == 422 and error_code(expired) == "OTP_EXPIRED"


async def test_sms_needs_the_plan_feature(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.b, phone="+201009990044")
    await bind_tenant(session, world.b.id, None)
    channel = (
        await session.execute(
            text("SELECT id FROM contact_channels WHERE tenant_id = :t AND contact_id = :c"),
            {"t": world.b.id, "c": contact.id},
        )
    ).scalar_one()
    response = await client.post(
        url(contact.id, str(channel), "start"), headers=world.headers(world.b)
    )
    assert response.status_code == 402
