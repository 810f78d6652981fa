"""The verified-phone policy (Section 1 §8 "Require verified phone for SMS/WA comms"):
`GET/PUT /v1/admin/phone-policy` under `twofa.manage.tenant`, its form on Settings →
Notification policies, and what it does to SMS/WhatsApp sent to workspace users."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.identity.models import UserProfile
from tests.conftest import World, error_code
from tests.modules.access.helpers import audit_rows
from tests.modules.identity.test_phone import CONFIRM, START, last_code
from tests.modules.notify.test_dispatch import PHONE, URL, otp_sms
from tests.modules.notify.test_web import cookie, htmx

API = "/v1/admin/phone-policy"
PAGE = "/settings/notification-policies"


async def turn_on(client: httpx.AsyncClient, world: World) -> None:
    on = await client.put(
        API, json={"require_verified_phone": True}, headers=world.headers(world.a)
    )
    assert on.status_code == 200, on.text


async def verify_phone(session: AsyncSession, world: World, e164: str) -> None:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    session.add(
        UserProfile(
            tenant_id=world.a.id,
            user_id=world.a.admin_id,
            phone_e164=e164,
            phone_verified_at=datetime.now(UTC),
        )
    )
    await session.flush()


async def test_anonymous_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get(API)).status_code == 401
    assert (await client.put(API, json={"require_verified_phone": True})).status_code == 401


async def test_the_policy_needs_twofa_manage_tenant(
    client: httpx.AsyncClient, world: World
) -> None:
    agent = world.headers(world.a, "agent")
    assert (await client.get(API, headers=agent)).status_code == 403
    body = {"require_verified_phone": True}
    assert (await client.put(API, json=body, headers=agent)).status_code == 403
    form = await client.post(
        f"{PAGE}/phone", data={"require_verified_phone": "1"}, headers=htmx(world, "agent")
    )
    assert form.status_code == 403


@pytest.mark.parametrize(
    "body",
    [{}, {"require_verified_phone": None}, {"require_verified_phone": "yes"},
     {"require_verified_phone": True, "other": 1}],
)  # fmt: skip
async def test_bad_input_is_422(client: httpx.AsyncClient, world: World, body: object) -> None:
    response = await client.put(API, json=body, headers=world.headers(world.a))
    assert response.status_code == 422 and error_code(response) == "VALIDATION_ERROR"


async def test_off_by_default_then_on_audited_and_per_tenant(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    assert (await client.get(API, headers=headers)).json() == {"require_verified_phone": False}
    await turn_on(client, world)
    assert (await client.get(API, headers=headers)).json() == {"require_verified_phone": True}
    other = await client.get(API, headers=world.headers(world.b))
    assert other.json() == {"require_verified_phone": False}
    rows = await audit_rows(session, world.a.id, "notify.policies.updated")
    assert [(r.before_data, r.after_data) for r in rows] == [
        ({"require_verified_phone": False}, {"require_verified_phone": True})
    ]
    notification = await client.get("/v1/admin/notification-policies", headers=headers)
    assert "require_verified_phone" not in notification.json()
    refused = await client.put(
        "/v1/admin/notification-policies", json={"require_verified_phone": False}, headers=headers
    )
    assert refused.status_code == 422  # not changeable under notify.policies.manage


async def test_off_sms_to_a_user_goes_to_any_number(
    client: httpx.AsyncClient, world: World
) -> None:
    sent = await client.post(
        URL, json=otp_sms(recipient_user_id=str(world.a.admin_id)), headers=world.headers(world.a)
    )
    assert sent.status_code == 202, sent.text


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_on_a_user_without_a_verified_phone_gets_no_sms(
    client: httpx.AsyncClient, world: World, channel: str
) -> None:
    await turn_on(client, world)
    body = otp_sms(channel=channel, recipient_user_id=str(world.a.admin_id))
    refused = await client.post(URL, json=body, headers=world.headers(world.a))
    assert refused.status_code == 409, refused.text
    assert error_code(refused) == "PHONE_NOT_VERIFIED"


async def test_on_only_the_verified_number_is_used(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await turn_on(client, world)
    await verify_phone(session, world, PHONE)
    headers = world.headers(world.a)
    to_verified = otp_sms(recipient_user_id=str(world.a.admin_id))
    assert (await client.post(URL, json=to_verified, headers=headers)).status_code == 202
    elsewhere = otp_sms(to="+201551234567", recipient_user_id=str(world.a.admin_id))
    refused = await client.post(URL, json=elsewhere, headers=headers)
    assert refused.status_code == 409 and error_code(refused) == "PHONE_NOT_VERIFIED"


async def test_on_contacts_and_e_mail_are_not_touched(
    client: httpx.AsyncClient, world: World
) -> None:
    await turn_on(client, world)
    headers = world.headers(world.a)
    contact = otp_sms(correlation_key="to-a-contact")
    assert (await client.post(URL, json=contact, headers=headers)).status_code == 202
    mail = {**otp_sms(recipient_user_id=str(world.a.admin_id)), "channel": "email",
            "to": "admin@alpha.test"}  # fmt: skip
    assert (await client.post(URL, json=mail, headers=headers)).status_code == 202


async def test_on_a_number_can_still_be_verified(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await turn_on(client, world)
    headers = world.headers(world.a)
    started = await client.post(START, json={"e164": PHONE, "channel": "sms"}, headers=headers)
    assert started.status_code == 202, started.text
    code, _ = await last_code(session, world)
    confirmed = await client.post(CONFIRM, json={"e164": PHONE, "code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    after = otp_sms(recipient_user_id=str(world.a.admin_id), correlation_key="after-verify")
    assert (await client.post(URL, json=after, headers=headers)).status_code == 202


async def test_settings_page_shows_and_saves_the_policy(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get(PAGE, headers=cookie(world))
    assert page.status_code == 200 and 'id="phone-policy-form"' in page.text
    saved = await client.post(
        f"{PAGE}/phone", data={"require_verified_phone": "1"}, headers=htmx(world)
    )
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith('<form id="phone-policy-form"') and "Saved" in saved.text
    current = await client.get(API, headers=world.headers(world.a))
    assert current.json() == {"require_verified_phone": True}
    off = await client.post(f"{PAGE}/phone", data={}, headers=htmx(world))
    assert off.status_code == 200 and "checked" not in off.text
