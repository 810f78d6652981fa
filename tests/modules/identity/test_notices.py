"""Admin notices of invitations and account status changes (spec Section 12 §7)."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import User
from m3crm.modules.identity import notices, repository
from m3crm.modules.notify.models import Channel, MessageType, OutboxMessage
from tests.conftest import World, error_code
from tests.factories import bearer
from tests.modules.identity.test_users_admin import new_user
from tests.web.test_pages import cookie

USERS = "/v1/admin/users"


async def sent(
    session: AsyncSession, world: World, family: str, recipient: UUID
) -> list[OutboxMessage]:
    """The outbox rows of `family` for `recipient`, oldest first."""
    await bind_tenant(session, world.a.id, None)
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.tenant_id == world.a.id,
            OutboxMessage.family == family,
            OutboxMessage.recipient_user_id == recipient,
        )
        .order_by(OutboxMessage.id)
    )
    return list((await session.execute(stmt)).scalars())


def channels(rows: list[OutboxMessage]) -> Counter[Channel]:
    return Counter(row.channel for row in rows)


async def admin(session: AsyncSession, world: World, email: str, locale: str = "en") -> UUID:
    """Another admin of tenant A (holds `user.invite`), in `locale`."""
    user_id = await new_user(session, world, email, role="admin")
    (await session.get_one(User, (world.a.id, user_id))).locale = locale
    await session.flush()
    return user_id


async def invitation_token(session: AsyncSession, world: World, email: str) -> str:
    """The token of the latest invitation e-mail to `email`."""
    await bind_tenant(session, world.a.id, None)
    stmt = (
        select(OutboxMessage.payload)
        .where(OutboxMessage.family == "auth.invitation", OutboxMessage.to_address == email)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    url = str((await session.execute(stmt)).scalar_one()["accept_url"])
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_admins_hear_of_invitations_but_not_of_their_own(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    other = await admin(session, world, "other.admin@alpha.test")
    arabic = await admin(session, world, "arabic.admin@alpha.test", locale="ar")
    inviter = world.a.admin_id
    h = world.headers(world.a)
    r = await client.post(
        f"{USERS}/invite", headers=h, json={"email": "newbie@example.com", "roles": ["admin"]}
    )
    assert r.status_code == 201, r.text
    invite_id = r.json()["id"]

    rows = await sent(session, world, "user.invitation_sent", other)
    assert channels(rows) == {Channel.EMAIL: 1, Channel.INBOX: 1}
    email = next(row for row in rows if row.channel is Channel.EMAIL)
    assert email.to_address == "other.admin@alpha.test"
    assert email.type is MessageType.TRANSACTIONAL
    assert email.content["subject"] == "Admin invited newbie@example.com"
    assert "Admin invited newbie@example.com to Tenant alpha" in email.content["text"]
    assert await sent(session, world, "user.invitation_sent", inviter) == []

    ar = await sent(session, world, "user.invitation_sent", arabic)
    assert {row.locale for row in ar} == {"ar"}
    assert next(r for r in ar if r.channel is Channel.EMAIL).content["subject"] == (
        "دعوة جديدة إلى newbie@example.com"
    )
    inbox = await client.get(
        "/v1/me/notifications", headers=bearer(world.settings, world.a.id, arabic)
    )
    assert inbox.status_code == 200, inbox.text
    [entry] = [e for e in inbox.json()["items"] if e["title"] == "تم إرسال دعوة"]
    assert entry["body"].startswith("دعا Admin newbie@example.com")
    assert entry["link_url"] == "/admin/users"

    for _ in range(2):
        r = await client.post(f"{USERS}/invites/{invite_id}/resend", headers=h)
        assert r.status_code == 200, r.text
    resent = await sent(session, world, "user.invitation_resent", other)
    assert channels(resent) == {Channel.EMAIL: 2, Channel.INBOX: 2}
    keys = {row.idempotency_key for row in resent}
    assert len(keys) == 4
    assert {k.split(":")[4] for k in keys} == {"2", "3"}  # one notice per sent_count
    assert await sent(session, world, "user.invitation_resent", inviter) == []

    token = await invitation_token(session, world, "newbie@example.com")
    r = await client.post(
        f"{USERS}/accept-invite",
        json={"token": token, "full_name": "Nadia Newbie", "password": "olive-grove-771"},
    )
    assert r.status_code == 201, r.text
    await bind_tenant(session, world.a.id, None)
    newbie = (
        await session.execute(select(User.id).where(User.email == "newbie@example.com"))
    ).scalar_one()
    for told in (inviter, other, arabic):
        accepted = await sent(session, world, "user.invitation_accepted", told)
        assert channels(accepted) == {Channel.EMAIL: 1, Channel.INBOX: 1}, told
    english = await sent(session, world, "user.invitation_accepted", inviter)
    assert english[0].content["subject"] == "Nadia Newbie joined Tenant alpha"
    assert {row.content.get("link_url") for row in english} >= {f"/admin/users/{newbie}"}
    assert await sent(session, world, "user.invitation_accepted", newbie) == []


async def test_the_same_event_is_told_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    other = await admin(session, world, "retry.admin@alpha.test")
    h = world.headers(world.a)
    r = await client.post(
        f"{USERS}/invite", headers=h, json={"email": "retry@example.com", "roles": ["staff"]}
    )
    assert r.status_code == 201, r.text
    await bind_tenant(session, world.a.id, None)
    row = await repository.invite(session, UUID(r.json()["id"]))
    assert row is not None
    again = await notices.invitation(
        session, TenantId(world.a.id), notices.InviteEvent.SENT, row,
        actor_id=world.a.admin_id, actor_name="Admin",
    )  # fmt: skip
    assert again >= 1
    assert channels(await sent(session, world, "user.invitation_sent", other)) == {
        Channel.EMAIL: 1,
        Channel.INBOX: 1,
    }
    refused = await client.post(
        f"{USERS}/invite", headers=h, json={"email": "retry@example.com", "roles": ["staff"]}
    )
    assert refused.status_code == 409
    assert len(await sent(session, world, "user.invitation_sent", other)) == 2


async def test_the_user_hears_of_suspension_deactivation_and_reinstatement(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "told@alpha.test", role="sales_agent")
    h = world.headers(world.a)
    for action in ("suspend", "reinstate", "deactivate", "reinstate"):
        r = await client.post(f"{USERS}/{user}/{action}", headers=h)
        assert r.status_code == 200, (action, r.text)

    suspended = await sent(session, world, "user.suspended", user)
    assert channels(suspended) == {Channel.EMAIL: 1, Channel.INBOX: 1}
    email = next(row for row in suspended if row.channel is Channel.EMAIL)
    assert email.to_address == "told@alpha.test"
    assert email.type is MessageType.TRANSACTIONAL
    assert email.content["subject"] == "Your account in Tenant alpha is suspended"
    assert channels(await sent(session, world, "user.deactivated", user)) == {
        Channel.EMAIL: 1,
        Channel.INBOX: 1,
    }
    reinstated = await sent(session, world, "user.reinstated", user)
    assert channels(reinstated) == {Channel.EMAIL: 2, Channel.INBOX: 2}
    inbox = await client.get(
        "/v1/me/notifications", headers=bearer(world.settings, world.a.id, user)
    )
    titles = [e["title"] for e in inbox.json()["items"]]
    assert titles == [
        "Your account is active again",
        "Your account was deactivated",
        "Your account is active again",
        "Your account was suspended",
    ]
    for family in notices.STATUS_FAMILIES.values():
        assert await sent(session, world, family, world.a.admin_id) == []


async def test_an_arabic_user_is_told_in_arabic(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    r = await client.post(f"{USERS}/{world.a.agent_id}/suspend", headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    rows = await sent(session, world, "user.suspended", world.a.agent_id)
    email = next(row for row in rows if row.channel is Channel.EMAIL)
    inbox = next(row for row in rows if row.channel is Channel.INBOX)
    assert email.locale == "ar"
    assert email.content["subject"] == "تم إيقاف حسابك في Tenant alpha"
    assert email.content["text"].startswith("مرحبًا وكيل المبيعات،")
    assert inbox.content["subject"] == "تم إيقاف حسابك"


async def test_a_refused_change_tells_nobody(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    h = world.headers(world.a)
    r = await client.post(f"{USERS}/{world.a.admin_id}/suspend", headers=h)
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    r = await client.post(f"{USERS}/{world.a.member_id}/reinstate", headers=h)
    assert r.status_code == 409 and error_code(r) == "INVALID_TRANSITION"
    for family in notices.STATUS_FAMILIES.values():
        assert await sent(session, world, family, world.a.admin_id) == []
        assert await sent(session, world, family, world.a.member_id) == []


async def test_the_web_screens_send_the_same_notices(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "web.told@alpha.test", role="sales_agent")
    r = await client.post(
        f"/admin/users/{user}/suspend", headers=cookie(world) | {"HX-Request": "true"}
    )
    assert r.status_code == 200, r.text
    assert channels(await sent(session, world, "user.suspended", user)) == {
        Channel.EMAIL: 1,
        Channel.INBOX: 1,
    }
