"""The delivery pump and the webhooks, end to end against loopback fake providers.

These tests commit (the pump works in its own transactions), each in a tenant of its
own, and drain only that tenant.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.db.session import Database
from m3crm.kernel.ids import TenantId
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.kernel.runs.worker import configure_worker_runtime
from m3crm.modules.notify import jobs
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.delivery import DeliveryPump
from m3crm.modules.notify.dispatch import DispatchRequest, DispatchResult, Notifier
from m3crm.modules.notify.models import (
    Channel,
    MessageStatus,
    OutboxMessage,
    Suppression,
    WebhookLog,
)
from m3crm.modules.notify.providers.registry import ProviderFactory
from m3crm.modules.notify.throttle import Throttle
from m3crm.settings import PROJECT_ROOT, Settings
from tests.contracts.fakes import FakeBrevo, FakeInfobip, Fault, serve_fake
from tests.factories import SeededTenant, make_tenant
from tests.harness import MigratedDatabase

BREVO_TOKEN = "brevo-hook-token"
INFOBIP_SECRET = "infobip-hook-secret"


@dataclass(frozen=True, slots=True)
class Fakes:
    brevo: FakeBrevo
    infobip: FakeInfobip
    brevo_url: str
    infobip_url: str


@dataclass(frozen=True, slots=True)
class Sender:
    tenant_id: TenantId
    user_id: UUID


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    brevo, infobip = FakeBrevo(), FakeInfobip()
    with serve_fake(brevo.app) as brevo_url, serve_fake(infobip.app) as infobip_url:
        yield Fakes(brevo, infobip, brevo_url, infobip_url)


def provider_settings(settings: Settings, fakes: Fakes, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "notify_email_provider": "brevo",
        "brevo_api_key": SecretStr("test-brevo-key"),
        "brevo_base_url": fakes.brevo_url,
        "brevo_webhook_token": SecretStr(BREVO_TOKEN),
        "notify_sms_provider": "infobip",
        "notify_whatsapp_provider": "infobip",
        "infobip_api_key": SecretStr("test-infobip-key"),
        "infobip_base_url": fakes.infobip_url,
        "infobip_whatsapp_sender": "447860099299",
        "infobip_webhook_secret": SecretStr(INFOBIP_SECRET),
    }
    values.update(extra)
    return settings.model_copy(update=values)


@pytest.fixture
async def tenant(test_db: MigratedDatabase) -> SeededTenant:
    """A committed tenant of its own (DevPro), so draining it sees only this test."""
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        seeded = await make_tenant(session, slug=f"pump-{uuid4().hex[:10]}", plan_code="DevPro")
    await engine.dispose()
    return seeded


@pytest.fixture
async def pump(database: Database, settings: Settings, fakes: Fakes) -> AsyncIterator[DeliveryPump]:
    fakes.brevo.reset()
    fakes.infobip.reset()
    configured = provider_settings(settings, fakes)
    factory = ProviderFactory(configured)
    yield DeliveryPump(database, configured, factory)
    await factory.close()


@pytest.fixture
def hooks(app: FastAPI, settings: Settings, fakes: Fakes) -> Iterator[None]:
    """The app answers webhooks with the test's secrets."""
    original = app.state.settings
    app.state.settings = provider_settings(settings, fakes)
    yield
    app.state.settings = original


async def dispatch(
    database: Database, settings: Settings, tenant: SeededTenant, req: DispatchRequest
) -> DispatchResult:
    notifier = Notifier(Throttle(RateLimiter(settings)))
    async with database.transaction(tenant.id, tenant.admin_id) as session:
        return await notifier.dispatch(session, Sender(tenant.id, tenant.admin_id), req)


async def messages(database: Database, tenant: SeededTenant) -> dict[Channel, OutboxMessage]:
    async with database.transaction(tenant.id) as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    return {row.channel: row for row in rows}


def verify_email(to: str = "buyer@example.com") -> DispatchRequest:
    return DispatchRequest(
        channel=Channel.EMAIL,
        to=to,
        family="auth.verify_email",
        payload={"verify_url": "https://crm.example.com/verify?t=abc", "name": "Sara"},
    )


async def test_email_goes_to_brevo_and_webhook_marks_it_delivered(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    fakes: Fakes,
    client: httpx.AsyncClient,
    hooks: None,
) -> None:
    await dispatch(database, settings, tenant, verify_email())
    assert await pump.drain(tenant.id) == 1
    sent = (await messages(database, tenant))[Channel.EMAIL]
    assert sent.status is MessageStatus.SENT
    assert sent.provider == "brevo"
    request = fakes.brevo.requests[-1]
    assert request.json["headers"]["idempotencyKey"] == str(sent.id)
    assert request.json["to"] == [{"email": "buyer@example.com"}]
    assert "verify?t=abc" in request.json["textContent"]

    event = {
        "event": "delivered",
        "email": "buyer@example.com",
        "messageId": sent.provider_message_id,
        "date": "2026-11-23T10:40:00Z",
    }
    auth = {"Authorization": f"Bearer {BREVO_TOKEN}"}
    first = await client.post("/v1/webhooks/brevo", json=[event], headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["applied"] == 1
    again = await client.post("/v1/webhooks/brevo", json=[event], headers=auth)
    assert again.json()["duplicates"] == 1
    assert (await messages(database, tenant))[Channel.EMAIL].status is MessageStatus.DELIVERED


async def test_bounce_suppresses_the_address(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    client: httpx.AsyncClient,
    hooks: None,
) -> None:
    await dispatch(database, settings, tenant, verify_email("full@example.com"))
    await pump.drain(tenant.id)
    sent = (await messages(database, tenant))[Channel.EMAIL]
    basic = base64.b64encode(f"brevo:{BREVO_TOKEN}".encode()).decode()
    response = await client.post(
        "/v1/webhooks/brevo",
        json={
            "event": "hard_bounce",
            "email": "full@example.com",
            "reason": "mailbox_full",
            "messageId": sent.provider_message_id,
            "date": "2026-11-23T10:41:00Z",
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    bounced = (await messages(database, tenant))[Channel.EMAIL]
    assert bounced.status is MessageStatus.BOUNCED
    async with database.transaction(tenant.id) as session:
        suppressed = (await session.execute(select(Suppression.normalized_value))).scalars()
        assert list(suppressed) == ["full@example.com"]


@pytest.mark.parametrize(
    ("event", "status", "suppressed"),
    [
        ("soft_bounce", MessageStatus.FAILED, False),
        ("blocked", MessageStatus.FAILED, False),
        ("hard_bounce", MessageStatus.BOUNCED, True),
        ("spam", MessageStatus.SENT, True),
    ],
)
async def test_only_a_lasting_refusal_suppresses_the_address(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    client: httpx.AsyncClient,
    hooks: None,
    event: str,
    status: MessageStatus,
    suppressed: bool,
) -> None:
    address = f"{event}@example.com"
    await dispatch(database, settings, tenant, verify_email(address))
    await pump.drain(tenant.id)
    sent = (await messages(database, tenant))[Channel.EMAIL]
    response = await client.post(
        "/v1/webhooks/brevo",
        json={"event": event, "email": address, "messageId": sent.provider_message_id},
        headers={"Authorization": f"Bearer {BREVO_TOKEN}"},
    )
    assert response.status_code == 200, response.text
    reported = (await messages(database, tenant))[Channel.EMAIL]
    assert reported.status is status
    async with database.transaction(tenant.id) as session:
        stmt = select(Suppression.id).where(Suppression.normalized_value == address)
        found = (await session.execute(stmt)).first() is not None
    assert found is suppressed


async def test_webhooks_refuse_bad_auth_and_unknown_shapes(
    database: Database, client: httpx.AsyncClient, hooks: None
) -> None:
    async with database.transaction() as session:
        before = (await session.execute(select(func.count()).select_from(WebhookLog))).scalar()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic !!"}):
        response = await client.post("/v1/webhooks/brevo", json=[], headers=headers)
        assert response.status_code == 401
    wrong = await client.post(
        "/v1/webhooks/infobip", json={"results": []}, headers={"X-Webhook-Secret": "nope"}
    )
    assert wrong.status_code == 401
    async with database.transaction() as session:
        after = (await session.execute(select(func.count()).select_from(WebhookLog))).scalar()
    assert after == before

    for body in ({"surprise": True}, [{"event": "teleported", "messageId": "x"}]):
        invalid = await client.post(
            "/v1/webhooks/brevo", json=body, headers={"Authorization": f"Bearer {BREVO_TOKEN}"}
        )
        assert invalid.status_code == 400
        assert invalid.json()["error"]["code"] == "DLR_INVALID"
    not_json = await client.post(
        "/v1/webhooks/infobip", content=b"<xml/>", headers={"X-Webhook-Secret": INFOBIP_SECRET}
    )
    assert not_json.status_code == 400


async def test_mirrored_sms_delivers_three_ways(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    fakes: Fakes,
    client: httpx.AsyncClient,
    hooks: None,
) -> None:
    result = await dispatch(
        database,
        settings,
        tenant,
        DispatchRequest(
            channel=Channel.SMS,
            to="+201001234567",
            family="otp.verify_phone",
            payload=otp_payload("123456", expires_min=10, tenant_name="Alpha"),
            recipient_user_id=tenant.admin_id,
        ),
    )
    assert len(result.messages) == 3
    assert await pump.drain(tenant.id) == 2
    rows = await messages(database, tenant)
    assert {c: r.status for c, r in rows.items()} == {
        Channel.SMS: MessageStatus.SENT,
        Channel.EMAIL: MessageStatus.SENT,
        Channel.INBOX: MessageStatus.DELIVERED,
    }
    sms_request = fakes.infobip.requests[-1].json["messages"][0]
    assert sms_request["destinations"] == [
        {"to": "+201001234567", "messageId": str(rows[Channel.SMS].id)}
    ]
    assert "123456" in sms_request["text"]

    report = {
        "results": [
            {
                "messageId": rows[Channel.SMS].provider_message_id,
                "to": "201001234567",
                "sentAt": "2026-11-23T10:40:00Z",
                "doneAt": "2026-11-23T10:40:10Z",
                "status": {
                    "groupId": 3,
                    "groupName": "DELIVERED",
                    "id": 5,
                    "name": "DELIVERED_TO_HANDSET",
                },
            }
        ]
    }
    secret = {"X-Webhook-Secret": INFOBIP_SECRET}
    response = await client.post("/v1/webhooks/infobip", json=[report], headers=secret)
    assert response.json()["applied"] == 1
    assert (await messages(database, tenant))[Channel.SMS].status is MessageStatus.DELIVERED


async def expire_retry_wait(database: Database, tenant: SeededTenant) -> None:
    async with database.transaction(tenant.id) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.QUEUED)
            .values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_retries_with_backoff_then_dead_letter(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    fakes: Fakes,
) -> None:
    await dispatch(database, settings, tenant, verify_email())
    fakes.brevo.fail_next(
        Fault.SERVER_ERROR, Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.SERVER_ERROR
    )
    await pump.drain(tenant.id)
    waiting = (await messages(database, tenant))[Channel.EMAIL]
    assert (waiting.status, waiting.attempts) == (MessageStatus.QUEUED, 1)
    assert waiting.error_code == "TEMPORARY_FAILURE"
    delay = (waiting.scheduled_at - datetime.now(UTC)).total_seconds()
    assert 40 <= delay <= 75  # 1 minute ± 20 % jitter
    assert await pump.drain(tenant.id) == 0  # not due yet

    await expire_retry_wait(database, tenant)
    await pump.drain(tenant.id)
    second = (await messages(database, tenant))[Channel.EMAIL]
    assert (second.attempts, second.error_code) == (2, "RATE_LIMITED")
    assert 240 <= (second.scheduled_at - datetime.now(UTC)).total_seconds() <= 365

    await expire_retry_wait(database, tenant)
    await pump.drain(tenant.id)
    third = (await messages(database, tenant))[Channel.EMAIL]
    assert (third.status, third.attempts) == (MessageStatus.QUEUED, 3)
    assert 720 <= (third.scheduled_at - datetime.now(UTC)).total_seconds() <= 1085  # 15 min

    await expire_retry_wait(database, tenant)
    await pump.drain(tenant.id)
    dead = (await messages(database, tenant))[Channel.EMAIL]
    assert (dead.status, dead.attempts) == (MessageStatus.FAILED, 4)  # three retries
    assert dead.error_code == "TEMPORARY_FAILURE"
    assert len(fakes.brevo.requests) == 4


async def test_invalid_request_is_dead_lettered_at_once(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    fakes: Fakes,
) -> None:
    await dispatch(database, settings, tenant, verify_email())
    fakes.brevo.fail_next(Fault.BAD_REQUEST)
    await pump.drain(tenant.id)
    failed = (await messages(database, tenant))[Channel.EMAIL]
    assert (failed.status, failed.attempts, failed.error_code) == (
        MessageStatus.FAILED,
        1,
        "INVALID_REQUEST",
    )


async def test_scheduled_message_waits_for_its_time(
    database: Database, settings: Settings, tenant: SeededTenant, pump: DeliveryPump
) -> None:
    request = verify_email()
    later = DispatchRequest(
        channel=request.channel,
        to=request.to,
        family=request.family,
        payload=request.payload,
        schedule_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    await dispatch(database, settings, tenant, later)
    assert await pump.drain(tenant.id) == 0
    assert (await messages(database, tenant))[Channel.EMAIL].status is MessageStatus.QUEUED


async def test_devstub_sends_and_simulates_delivery(
    database: Database, settings: Settings, tenant: SeededTenant, fakes: Fakes
) -> None:
    configured = provider_settings(settings, fakes, notify_sms_provider="devstub")
    factory = ProviderFactory(configured)
    await dispatch(
        database,
        settings,
        tenant,
        DispatchRequest(
            channel=Channel.SMS,
            to="+971501234567",
            family="task.reminder",
            payload={"title": "Viewing", "due": "10:00"},
        ),
    )
    await DeliveryPump(database, configured, factory).drain(tenant.id)
    sent = (await messages(database, tenant))[Channel.SMS]
    assert (sent.status, sent.provider) == (MessageStatus.SENT, "devstub")
    assert factory.devstub_sms.sent[-1].to_e164 == "+971501234567"
    await factory.close()

    configure_worker_runtime(database)
    outcome = await jobs.simulate_delivery(str(tenant.id), [sent.provider_message_id or ""])
    assert outcome == {"applied": 1, "duplicates": 0}
    assert (await messages(database, tenant))[Channel.SMS].status is MessageStatus.DELIVERED


async def test_killed_pump_loses_no_message_and_delivers_none_twice(
    database: Database,
    settings: Settings,
    tenant: SeededTenant,
    pump: DeliveryPump,
    fakes: Fakes,
    test_db: MigratedDatabase,
) -> None:
    """SIGKILL a worker process while it has sends in flight. Afterwards every message
    is sent; messages the dead worker had recorded sent are never sent again; the ones
    it had in flight are re-sent with the same idempotency key, so the provider delivers
    each message once."""
    await pump.run_once()  # other tests' committed mail goes first, out of this test's way
    fakes.brevo.reset()
    total = 120
    for n in range(total):
        await dispatch(database, settings, tenant, verify_email(f"buyer{n}@example.com"))
    fakes.brevo.slow_seconds = 1.5
    fakes.brevo.fail_next(*[Fault.SLOW] * total)
    owner = test_db.urls.owner.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "M3CRM_NOTIFY_EMAIL_PROVIDER": "brevo",
        "M3CRM_BREVO_API_KEY": "test-brevo-key",
        "M3CRM_BREVO_BASE_URL": fakes.brevo_url,
        "M3CRM_NOTIFY_CLAIM_SECONDS": "2",
        "M3CRM_NOTIFY_BATCH_SIZE": "60",
        "M3CRM_NOTIFY_SEND_CONCURRENCY": "20",
    }
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "tests.worker_process", owner], cwd=PROJECT_ROOT, env=env
    )
    try:
        for _ in range(600):  # up to 30 s to start and have sends in flight
            if len(fakes.brevo.requests) >= 70:  # the second batch is in flight
                break
            await asyncio.sleep(0.05)
        assert len(fakes.brevo.requests) >= 70
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    recorded_before = {
        str(m.id) for m in (await all_messages(database, tenant)) if m.status is MessageStatus.SENT
    }
    assert len(recorded_before) < total  # the kill landed mid-run
    await asyncio.sleep(2.5)  # the dead worker's claims lapse
    fakes.brevo.reset_script()
    await pump.drain(tenant.id)

    final = await all_messages(database, tenant)
    assert all(m.status is MessageStatus.SENT for m in final), "a message was lost"
    requests_per_message = Counter(
        r.json["headers"]["idempotencyKey"] for r in fakes.brevo.requests
    )
    assert set(requests_per_message) == {str(m.id) for m in final}
    assert all(requests_per_message[ref] == 1 for ref in recorded_before)
    assert len(fakes.brevo.accepted) == total  # the provider delivered each message once
    assert fakes.brevo.duplicates >= 10  # the in-flight sends were repeated, same key
    assert len(fakes.brevo.requests) == total + fakes.brevo.duplicates


async def all_messages(database: Database, tenant: SeededTenant) -> list[OutboxMessage]:
    async with database.transaction(tenant.id) as session:
        return list((await session.execute(select(OutboxMessage))).scalars())
