"""Phone verification (`/v1/auth/phone/verify/*`), `/v1/me/profile` and the profile page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.auth import ACCESS_COOKIE, get_session
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.identity.models import (
    PhoneVerification,
    PhoneVerificationStatus,
    UserProfile,
)
from m3crm.modules.notify.addresses import phone_region
from m3crm.modules.notify.models import Channel, OutboxMessage
from tests.conftest import World, error_code
from tests.factories import SeededTenant

START = "/v1/auth/phone/verify/start"
RESEND = "/v1/auth/phone/verify/resend"
CONFIRM = "/v1/auth/phone/verify/confirm"
CANCEL = "/v1/auth/phone/verify/cancel"
PROFILE = "/v1/me/profile"
PHONE = "+201001234567"


async def start(
    client: httpx.AsyncClient, world: World, *, channel: str = "sms", e164: str = PHONE
) -> dict[str, Any]:
    response = await client.post(
        START, json={"e164": e164, "channel": channel}, headers=world.headers(world.a)
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def outbox_rows(
    session: AsyncSession, tenant: SeededTenant, user_id: UUID
) -> list[OutboxMessage]:
    await bind_tenant(session, tenant.id, user_id)
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient_user_id == user_id,
            OutboxMessage.family == "otp.verify_phone",
        )
        .order_by(OutboxMessage.id)
    )
    return list((await session.execute(stmt)).scalars())


async def last_code(
    session: AsyncSession, world: World, channel: Channel = Channel.SMS
) -> tuple[str, OutboxMessage]:
    """The code of the newest OTP on `channel` (what the DevStub transport would deliver)."""
    rows = [
        r for r in await outbox_rows(session, world.a, world.a.admin_id) if r.channel is channel
    ]
    assert rows
    return str(rows[-1].payload["code"]), rows[-1]


async def verification(
    session: AsyncSession, world: World, verification_id: str
) -> PhoneVerification:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    row = await session.get(PhoneVerification, (world.a.id, UUID(verification_id)))
    assert row is not None
    return row


async def audit_actions(session: AsyncSession, world: World, entity_id: str) -> list[AuditLog]:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    stmt = select(AuditLog).where(AuditLog.entity_id == entity_id).order_by(AuditLog.id)
    return list((await session.execute(stmt)).scalars())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def confirm(
    client: httpx.AsyncClient, world: World, code: str, e164: str = PHONE
) -> httpx.Response:
    return await client.post(
        CONFIRM, json={"e164": e164, "code": code}, headers=world.headers(world.a)
    )


# --- guards ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", START, {"e164": PHONE, "channel": "sms"}),
        ("POST", RESEND, {"verification_id": "0190a0c0-0000-7000-8000-000000000000"}),
        ("POST", CONFIRM, {"e164": PHONE, "code": "123456"}),
        ("DELETE", CANCEL, None),
        ("GET", PROFILE, None),
        ("PATCH", PROFILE, {"full_name": "X"}),
    ],
)
async def test_anonymous_is_refused(
    client: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, url, json=body)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (START, {"e164": PHONE, "channel": "sms"}),
        (CONFIRM, {"e164": PHONE, "code": "123456"}),
    ],
)
async def test_user_without_a_role_is_refused(
    client: httpx.AsyncClient, world: World, url: str, body: dict[str, Any]
) -> None:
    response = await client.post(url, json=body, headers=world.headers(world.a, "member"))
    assert response.status_code == 403
    assert error_code(response) == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"e164": "01001234567", "channel": "sms"}, "e164"),
        ({"e164": "+2010", "channel": "sms"}, "e164"),
        ({"e164": "not a number", "channel": "whatsapp"}, "e164"),
        ({"e164": PHONE, "channel": "email"}, "channel"),
        ({"e164": PHONE, "channel": "sms", "extra": 1}, "extra"),
    ],
)
async def test_bad_start_input_names_the_field(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post(START, json=body, headers=world.headers(world.a))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["details"]["fields"]


async def test_bad_confirm_input_names_the_field(client: httpx.AsyncClient, world: World) -> None:
    response = await confirm(client, world, "12345")
    assert response.status_code == 422
    assert "code" in response.json()["error"]["details"]["fields"]
    response = await confirm(client, world, "123456", e164="0100")
    assert response.status_code == 422
    assert "e164" in response.json()["error"]["details"]["fields"]


async def test_free_plan_cannot_send_sms(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        START, json={"e164": PHONE, "channel": "sms"}, headers=world.headers(world.b)
    )
    assert response.status_code == 402
    assert error_code(response) == "PLAN_REQUIRED"
    assert response.json()["error"]["details"]["feature"] == "notifications.sms"


# --- the happy path -------------------------------------------------------------------


async def test_start_sends_through_the_outbox_and_confirm_verifies(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    started = await start(client, world, e164="+20 100 123 4567")
    assert started["e164"] == PHONE
    assert started["channel"] == "sms"
    expires = datetime.fromisoformat(started["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    assert datetime.fromisoformat(started["resend_after"]) < expires

    code, sms = await last_code(session, world)
    assert len(code) == 6 and code.isdigit()
    assert code not in str(started)
    assert sms.to_address == PHONE and not sms.is_mirror
    group = [
        r
        for r in await outbox_rows(session, world.a, world.a.admin_id)
        if r.dispatch_group_id == sms.dispatch_group_id
    ]
    assert sorted((r.channel.value, r.is_mirror) for r in group) == [
        ("email", True),
        ("inbox", True),
        ("sms", False),
    ]
    row = await verification(session, world, started["verification_id"])
    assert row.code_hash != code and code not in row.code_hash

    response = await confirm(client, world, code)
    assert response.status_code == 200, response.text
    assert response.json()["e164"] == PHONE and response.json()["country"] == "EG"

    profile = (await client.get(PROFILE, headers=world.headers(world.a))).json()
    assert profile["phone_e164"] == PHONE and profile["phone_country"] == "EG"
    assert profile["phone_verified_at"] is not None
    assert profile["email"] == "admin@alpha.test"

    logs = await audit_actions(session, world, started["verification_id"])
    assert [log.action for log in logs] == [
        "phone.verify.sent",
        "phone.verify.started",
        "phone.verify.succeeded",
    ]
    assert all(code not in str(log.after_data) for log in logs)
    assert logs[-1].after_data["phone_country"] == "EG"

    # A verified code cannot be used again.
    again = await confirm(client, world, code)
    assert again.status_code == 404


async def test_whatsapp_alone_verifies(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    started = await start(client, world, channel="whatsapp")
    assert started["channel"] == "whatsapp"
    code, message = await last_code(session, world, Channel.WHATSAPP)
    assert message.to_address == PHONE
    assert not [
        r for r in await outbox_rows(session, world.a, world.a.admin_id) if r.channel is Channel.SMS
    ]
    response = await confirm(client, world, code)
    assert response.status_code == 200, response.text


async def test_profile_is_created_when_missing(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await start(client, world)
    code, _ = await last_code(session, world)
    assert (await confirm(client, world, code)).status_code == 200
    await bind_tenant(session, world.a.id, world.a.admin_id)
    profiles = (
        await session.execute(select(UserProfile).where(UserProfile.user_id == world.a.admin_id))
    ).scalars()
    assert [p.phone_e164 for p in profiles] == [PHONE]


# --- refusals ------------------------------------------------------------------------


async def test_five_wrong_codes_revoke_the_verification(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    started = await start(client, world)
    code, _ = await last_code(session, world)
    for left in (4, 3, 2, 1):
        response = await confirm(client, world, wrong(code))
        assert response.status_code == 422
        assert error_code(response) == "AUTH_2FA_INVALID_CODE"
        assert response.json()["error"]["details"]["attempts_left"] == left
    response = await confirm(client, world, wrong(code))
    assert response.status_code == 422
    assert error_code(response) == "OTP_ATTEMPTS_EXCEEDED"

    response = await confirm(client, world, code)
    assert response.status_code == 422
    assert error_code(response) == "OTP_ATTEMPTS_EXCEEDED"
    row = await verification(session, world, started["verification_id"])
    assert row.status is PhoneVerificationStatus.REVOKED
    assert row.attempts == 5
    logs = await audit_actions(session, world, started["verification_id"])
    assert [log.action for log in logs].count("phone.verify.failed") == 5


async def test_expired_code_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    started = await start(client, world)
    code, _ = await last_code(session, world)
    row = await verification(session, world, started["verification_id"])
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await session.flush()

    response = await confirm(client, world, code)
    assert response.status_code == 422
    assert error_code(response) == "OTP_EXPIRED"
    assert row.status is PhoneVerificationStatus.EXPIRED
    profile = (await client.get(PROFILE, headers=world.headers(world.a))).json()
    assert profile["phone_verified_at"] is None


async def test_fourth_start_within_the_hour_is_rate_limited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    ids = [(await start(client, world))["verification_id"] for _ in range(3)]
    response = await client.post(
        START, json={"e164": PHONE, "channel": "sms"}, headers=world.headers(world.a)
    )
    assert response.status_code == 429
    assert error_code(response) == "RATE_LIMIT"
    assert 3500 < int(response.headers["Retry-After"]) <= 3601
    # Each start revoked the one before it.
    statuses = [(await verification(session, world, i)).status for i in ids]
    assert statuses == [
        PhoneVerificationStatus.REVOKED,
        PhoneVerificationStatus.REVOKED,
        PhoneVerificationStatus.PENDING,
    ]


async def test_resend_waits_a_minute_then_sends_a_new_code(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    started = await start(client, world)
    first, _ = await last_code(session, world)
    body = {"verification_id": started["verification_id"]}
    response = await client.post(RESEND, json=body, headers=world.headers(world.a))
    assert response.status_code == 429
    assert error_code(response) == "RATE_LIMIT"
    assert 1 <= int(response.headers["Retry-After"]) <= 60

    row = await verification(session, world, started["verification_id"])
    row.last_sent_at = datetime.now(UTC) - timedelta(seconds=61)
    await session.flush()
    response = await client.post(RESEND, json=body, headers=world.headers(world.a))
    assert response.status_code == 202, response.text
    assert response.json()["verification_id"] == started["verification_id"]
    second, message = await last_code(session, world)
    assert message.payload == {
        "code": second,
        "expires_min": 10,
        "app_name": "M3CoreCRM",
        "tenant_name": f"Tenant {world.a.slug}",
    }
    assert (
        len(
            [
                r
                for r in await outbox_rows(session, world.a, world.a.admin_id)
                if r.channel is Channel.SMS
            ]
        )
        == 2
    )
    if second != first:
        assert (await confirm(client, world, first)).status_code == 422
    assert (await confirm(client, world, second)).status_code == 200
    actions = [
        log.action for log in await audit_actions(session, world, started["verification_id"])
    ]
    assert "phone.verify.resend" in actions


async def test_cancel_ends_the_verification(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    started = await start(client, world)
    code, _ = await last_code(session, world)
    response = await client.delete(CANCEL, headers=world.headers(world.a))
    assert response.status_code == 204
    assert (await confirm(client, world, code)).status_code == 404
    assert (await client.delete(CANCEL, headers=world.headers(world.a))).status_code == 404
    row = await verification(session, world, started["verification_id"])
    assert row.status is PhoneVerificationStatus.REVOKED
    actions = [
        log.action for log in await audit_actions(session, world, started["verification_id"])
    ]
    assert actions[-1] == "phone.verify.cancelled"


async def test_another_users_or_tenants_verification_is_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    started = await start(client, world)
    body = {"verification_id": started["verification_id"]}
    for headers in (world.headers(world.b), world.headers(world.a, "agent")):
        response = await client.post(RESEND, json=body, headers=headers)
        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"


# --- profile -------------------------------------------------------------------------


async def test_profile_read_and_update(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a, "member")
    profile = (await client.get(PROFILE, headers=headers)).json()
    assert profile == {
        "email": "member@alpha.test",
        "full_name": "member@alpha.test",
        "locale": "en",
        "phone_e164": None,
        "phone_verified_at": None,
        "phone_country": None,
        "job_title_code": None,
        "department_code": None,
    }
    response = await client.patch(
        PROFILE, json={"full_name": "  Mona   Adel ", "locale": "ar"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Mona Adel"
    assert response.json()["locale"] == "ar"
    await bind_tenant(session, world.a.id, world.a.member_id)
    log = (
        await session.execute(
            select(AuditLog).where(
                AuditLog.action == "user.profile.updated",
                AuditLog.entity_id == str(world.a.member_id),
            )
        )
    ).scalar_one()
    assert log.after_data == {"full_name": "Mona Adel", "locale": "ar"}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"locale": "fr"}, "locale"), ({"full_name": ""}, "full_name"), ({"email": "x@y.z"}, "email")],
)
async def test_profile_update_refuses_bad_input(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.patch(PROFILE, json=body, headers=world.headers(world.a))
    assert response.status_code == 422
    assert field in response.json()["error"]["details"]["fields"]


# --- page ------------------------------------------------------------------------------


def cookie(world: World, user: str = "admin") -> dict[str, str]:
    token = mint_access_token(
        world.settings, tenant_id=world.a.id, user_id=getattr(world.a, f"{user}_id")
    )
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}


def htmx(world: World) -> dict[str, str]:
    return {**cookie(world), "HX-Request": "true"}


async def test_profile_page_renders(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/account/profile", headers=cookie(world))
    assert response.status_code == 200
    assert 'id="phone-card"' in response.text
    assert 'for="phone-e164"' in response.text
    arabic = await client.get("/account/profile", headers=cookie(world, "agent"))
    assert arabic.status_code == 200
    assert 'dir="rtl"' in arabic.text


async def test_page_flow_start_wrong_code_then_verified(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    url = "/account/profile/phone"
    refused = await client.post(
        f"{url}/start", data={"e164": "0100", "channel": "sms"}, headers=htmx(world)
    )
    assert refused.status_code == 422
    assert 'id="phone-e164-error"' in refused.text

    response = await client.post(
        f"{url}/start", data={"e164": PHONE, "channel": "sms"}, headers=htmx(world)
    )
    assert response.status_code == 200, response.text
    assert 'name="code"' in response.text
    assert "disabled" in response.text  # resend waits a minute
    code, _ = await last_code(session, world)
    assert code not in response.text

    response = await client.post(
        f"{url}/confirm", data={"e164": PHONE, "code": wrong(code)}, headers=htmx(world)
    )
    assert response.status_code == 422
    assert "4 attempts left" in response.text

    response = await client.post(
        f"{url}/confirm", data={"e164": PHONE, "code": code}, headers=htmx(world)
    )
    assert response.status_code == 200
    assert 'data-testid="phone-verified"' in response.text
    assert 'data-country="EG">Egypt<' in response.text


async def test_page_cancel_and_profile_save(client: httpx.AsyncClient, world: World) -> None:
    await start(client, world)
    response = await client.post("/account/profile/phone/cancel", headers=htmx(world))
    assert response.status_code == 200
    assert 'name="e164"' in response.text
    response = await client.post(
        "/account/profile", data={"full_name": "Admin A", "locale": "en"}, headers=htmx(world)
    )
    assert response.status_code == 200
    assert "Admin A" in response.text
    response = await client.post(
        "/account/profile", data={"full_name": "Admin A", "locale": "ar"}, headers=htmx(world)
    )
    assert response.headers.get("HX-Refresh") == "true"
    without_htmx = await client.post(
        "/account/profile", data={"full_name": "X", "locale": "en"}, headers=cookie(world)
    )
    assert without_htmx.status_code == 403


@pytest.fixture
async def rolling_client(app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """Like `client`, but each request runs in a savepoint rolled back when the handler
    raises — as production's `get_session` does with the whole transaction."""

    async def request_session() -> AsyncIterator[AsyncSession]:
        async with session.begin_nested():
            yield session

    app.dependency_overrides[get_session] = request_session
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    app.dependency_overrides.clear()


async def test_counted_attempts_survive_a_refusal(
    rolling_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """A refused code is answered without raising, so its attempt is committed."""
    started = await start(rolling_client, world)
    code, _ = await last_code(session, world)
    response = await confirm(rolling_client, world, wrong(code))
    assert error_code(response) == "AUTH_2FA_INVALID_CODE"
    page = await rolling_client.post(
        "/account/profile/phone/confirm",
        data={"e164": PHONE, "code": wrong(code)},
        headers=htmx(world),
    )
    assert page.status_code == 422
    row = await verification(session, world, started["verification_id"])
    await session.refresh(row)
    assert row.attempts == 2
    # A refusal that raises (here 429) leaves nothing behind.
    refused = await rolling_client.post(
        RESEND, json={"verification_id": started["verification_id"]}, headers=world.headers(world.a)
    )
    assert refused.status_code == 429
    # The savepoint does roll back on a raise: a 402 start leaves no verification behind.
    plan_refused = await rolling_client.post(
        START, json={"e164": PHONE, "channel": "sms"}, headers=world.headers(world.b)
    )
    assert plan_refused.status_code == 402
    await bind_tenant(session, world.b.id, world.b.admin_id)
    left = (
        await session.execute(
            select(PhoneVerification).where(PhoneVerification.tenant_id == world.b.id)
        )
    ).all()
    assert left == []


async def test_job_title_and_department_chosen_on_the_profile_page(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get("/account/profile", headers=cookie(world))
    assert 'name="job_title_code"' in page.text and 'value="sales_agent"' in page.text
    saved = await client.post(
        "/account/profile",
        data={"full_name": "Admin A", "locale": "en", "job_title_code": "sales_agent"},
        headers=htmx(world),
    )
    assert saved.status_code == 200 and 'value="sales_agent" selected' in saved.text
    me = await client.get("/v1/me/profile", headers=world.headers(world.a))
    assert me.json()["job_title_code"] == "sales_agent"
    refused = await client.post(
        "/account/profile",
        data={"full_name": "Renamed", "locale": "en", "job_title_code": "astronaut"},
        headers=htmx(world),
    )
    assert refused.status_code == 422 and 'id="profile-job_title_code-error"' in refused.text
    again = await client.get("/v1/me/profile", headers=world.headers(world.a))
    assert again.json()["full_name"] == "Admin A"  # nothing of the refused form was kept
    cleared = await client.post(
        "/account/profile", data={"full_name": "Admin A", "locale": "en"}, headers=htmx(world)
    )
    assert cleared.status_code == 200
    after = await client.get("/v1/me/profile", headers=world.headers(world.a))
    assert after.json()["job_title_code"] is None


@pytest.mark.parametrize(
    ("e164", "region"),
    [("+201001234567", "EG"), ("+12125550123", "US"), ("+14165550123", "CA"),
     ("+80012345678", None), ("not a number", None)],
)  # fmt: skip
def test_phone_region(e164: str, region: str | None) -> None:
    assert phone_region(e164) == region


async def test_verifying_another_number_replaces_the_country(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await start(client, world)
    code, _ = await last_code(session, world)
    assert (await confirm(client, world, code)).status_code == 200
    saudi = "+966501234567"
    await start(client, world, e164=saudi)
    code, _ = await last_code(session, world)
    response = await confirm(client, world, code, e164=saudi)
    assert response.status_code == 200, response.text
    assert response.json()["country"] == "SA"
    profile = (await client.get(PROFILE, headers=world.headers(world.a))).json()
    assert (profile["phone_e164"], profile["phone_country"]) == (saudi, "SA")


async def test_arabic_profile_names_the_country_in_arabic(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await start(client, world)
    code, _ = await last_code(session, world)
    assert (await confirm(client, world, code)).status_code == 200
    arabic = {"locale": "ar"}
    assert (await client.patch(PROFILE, json=arabic, headers=world.headers(world.a))).is_success
    page = await client.get("/account/profile", headers=cookie(world))
    assert 'data-country="EG">مصر<' in page.text
