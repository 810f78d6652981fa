"""Signing in with a code sent by SMS or WhatsApp, end to end over committed data:
send → the code from the outbox → complete; and the refusals of the send step (dead or
foreign challenge, channel not offered, plan feature gone, one send a minute)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from m3crm.kernel.db.session import Database
from m3crm.modules.identity.models import UserProfile
from m3crm.modules.notify.models import OutboxMessage
from m3crm.modules.plans.models import Plan, TenantPlan
from tests.modules.identity.test_auth import PASSWORD, api, sign_up  # noqa: F401

SEND = "/v1/auth/login/2fa/send"
COMPLETE = "/v1/auth/login/2fa"


@contextmanager
def code_sends_per_minute(app: FastAPI, limit: str) -> Iterator[None]:
    original = app.state.settings
    limits = {**original.auth_rate_limits, "login_code.account": limit}
    app.state.settings = original.model_copy(update={"auth_rate_limits": limits})
    try:
        yield
    finally:
        app.state.settings = original


async def set_plan(database: Database, tenant: UUID, code: str) -> None:
    async with database.transaction(tenant) as session:
        found = (await session.execute(select(Plan).where(Plan.code == code))).scalar_one()
        await session.execute(update(TenantPlan).values(plan_id=found.id))


async def account_with(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
    channel: str,
) -> tuple[str, UUID]:
    """A DevPro workspace whose owner has a verified phone and `channel` codes on."""
    email = f"code-{uuid4().hex[:8]}@example.com"
    body = (await sign_up(api, email=email)).json()
    tenant = UUID(body["tenant_id"])
    await set_plan(database, tenant, "DevPro")
    async with database.transaction(tenant) as session:
        profile = (await session.execute(select(UserProfile))).scalar_one()
        profile.phone_e164 = "+201001234567"
        profile.phone_verified_at = datetime.now(UTC)
    enabled = await api.post(
        f"/v1/auth/twofa/{channel}/enable",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert enabled.status_code == 200, enabled.text
    api.cookies.clear()
    return email, tenant


async def challenge_for(api: httpx.AsyncClient, email: str) -> tuple[str, list[str]]:  # noqa: F811
    step = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert step.status_code == 401 and step.json()["error"]["code"] == "AUTH_2FA_REQUIRED"
    details = step.json()["error"]["details"]
    return details["challenge"], details["methods"]


async def last_message(database: Database, tenant: UUID, channel: str) -> OutboxMessage:
    async with database.transaction(tenant) as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.channel == channel)
            .order_by(OutboxMessage.created_at.desc())
        )
        return next(iter(rows.scalars()))


async def last_code(database: Database, tenant: UUID, channel: str) -> str:
    return str((await last_message(database, tenant, channel)).payload["code"])


@pytest.fixture
async def one_send_a_minute(app: FastAPI) -> AsyncIterator[None]:
    with code_sends_per_minute(app, "1/minute"):
        yield


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_sign_in_with_a_texted_code(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
    channel: str,
) -> None:
    email, tenant = await account_with(api, database, channel)
    challenge, methods = await challenge_for(api, email)
    assert methods == [channel]
    sent = await api.post(SEND, json={"challenge": challenge, "channel": channel})
    assert sent.status_code == 202, sent.text
    message = await last_message(database, tenant, channel)
    code = message.payload["code"]
    assert message.payload == {
        "code": code, "expires_min": 5, "app_name": "M3CoreCRM", "tenant_name": "Nile Crest Realty"
    }  # fmt: skip
    assert f"M3CoreCRM code for Nile Crest Realty is {code}." in message.content["text"]
    wrong = "000000" if code != "000000" else "111111"
    refused = await api.post(
        COMPLETE, json={"challenge": challenge, "method": channel, "code": wrong}
    )
    assert refused.status_code == 401
    done = await api.post(
        COMPLETE,
        json={"challenge": challenge, "method": channel, "code": code, "refresh_via": "body"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["tenant_id"] == str(tenant) and done.json()["refresh_token"]
    again = await api.post(COMPLETE, json={"challenge": challenge, "method": channel, "code": code})
    assert again.status_code == 401  # the challenge is single-use


async def test_a_code_sent_by_one_channel_does_not_complete_the_other(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email, tenant = await account_with(api, database, "sms")
    challenge, _ = await challenge_for(api, email)
    assert (
        await api.post(SEND, json={"challenge": challenge, "channel": "sms"})
    ).status_code == 202
    code = await last_code(database, tenant, "sms")
    other = await api.post(
        COMPLETE, json={"challenge": challenge, "method": "whatsapp", "code": code}
    )
    assert other.status_code == 401


async def test_send_refuses_a_channel_not_offered_and_a_bad_challenge(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email, _ = await account_with(api, database, "sms")
    challenge, _ = await challenge_for(api, email)
    not_offered = await api.post(SEND, json={"challenge": challenge, "channel": "whatsapp"})
    assert not_offered.status_code == 401
    assert not_offered.json()["error"]["code"] == "AUTH_2FA_INVALID_CODE"
    bogus = await api.post(SEND, json={"challenge": "x" * 40, "channel": "sms"})
    assert bogus.status_code == 401
    bad_channel = await api.post(SEND, json={"challenge": challenge, "channel": "email"})
    assert bad_channel.status_code == 422


async def test_send_rechecks_the_plan_feature(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email, tenant = await account_with(api, database, "sms")
    challenge, _ = await challenge_for(api, email)
    await set_plan(database, tenant, "DevFree")
    refused = await api.post(SEND, json={"challenge": challenge, "channel": "sms"})
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["details"]["feature"] == "twofa.sms"


async def test_one_code_a_minute_per_user_across_challenges(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
    one_send_a_minute: None,
) -> None:
    email, _ = await account_with(api, database, "whatsapp")
    first, _ = await challenge_for(api, email)
    sent = await api.post(SEND, json={"challenge": first, "channel": "whatsapp"})
    assert sent.status_code == 202
    again = await api.post(SEND, json={"challenge": first, "channel": "whatsapp"})
    assert again.status_code == 429 and "Retry-After" in again.headers
    second, _ = await challenge_for(api, email)
    fresh = await api.post(SEND, json={"challenge": second, "channel": "whatsapp"})
    assert fresh.status_code == 429  # a new challenge does not reset the count
