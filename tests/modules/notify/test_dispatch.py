"""`POST /v1/notify/dispatch`: validation, plan, consent, caps, mirroring, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import (
    Channel,
    InboxEntry,
    MessageTemplate,
    OutboxMessage,
    TemplateStatus,
)
from m3crm.modules.notify.throttle import NoThrottle
from m3crm.modules.plans.models import UsageCounter
from tests.conftest import World, error_code
from tests.factories import bearer, make_user
from tests.modules.notify.helpers import send_stop

URL = "/v1/notify/dispatch"
PHONE = "+201001234567"


def otp_sms(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "sms",
        "to": PHONE,
        "family": "otp.verify_phone",
        "payload": otp_payload("482913", expires_min=10, tenant_name="Alpha"),
    }
    body.update(extra)
    return body


async def test_anonymous_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json=otp_sms())
    assert response.status_code == 401


async def test_user_without_permission_is_refused(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(URL, json=otp_sms(), headers=world.headers(world.a, "member"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (otp_sms(to="01001234567"), "to"),
        (otp_sms(to="+2010"), "to"),
        ({**otp_sms(), "channel": "email", "to": "not-an-address"}, "to"),
        (otp_sms(payload={"expires_min": 3}), "payload.code"),
        (otp_sms(family=None), "template_code"),
        (otp_sms(family=None, template_code="otp.email.verify_phone"), "template_code"),
        (otp_sms(family=None, template_code="no.such.template"), "template_code"),
        ({"channel": "inbox", "family": "task.reminder", "payload": {}}, "recipient_user_id"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post(URL, json=body, headers=world.headers(world.a))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["details"]["fields"]


async def test_unknown_family_is_template_missing(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        URL, json=otp_sms(family="no.such_family"), headers=world.headers(world.a)
    )
    assert response.status_code == 422
    assert error_code(response) == "TEMPLATE_MISSING"


async def test_sms_needs_the_plan_feature(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(URL, json=otp_sms(), headers=world.headers(world.b))
    assert response.status_code == 402
    assert error_code(response) == "PLAN_REQUIRED"
    assert response.json()["error"]["details"]["feature"] == "notifications.sms"


async def sms_usage(session: AsyncSession, world: World) -> int:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    value = (
        await session.execute(
            select(UsageCounter.value).where(
                UsageCounter.key == "sms.sent", UsageCounter.period_start.is_not(None)
            )
        )
    ).scalar_one_or_none()
    return int(value or 0)


async def test_sms_mirrors_to_email_and_inbox_in_one_group(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    before = await sms_usage(session, world)
    response = await client.post(
        URL,
        json=otp_sms(recipient_user_id=str(world.a.agent_id)),
        headers=world.headers(world.a),
    )
    assert response.status_code == 202, response.text
    result = response.json()
    channels = sorted((m["channel"], m["is_mirror"]) for m in result["messages"])
    assert channels == [("email", True), ("inbox", True), ("sms", False)]
    assert result["dispatch_group_id"] is not None
    assert await sms_usage(session, world) == before + 1

    rows = (
        await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.dispatch_group_id == result["dispatch_group_id"]
            )
        )
    ).scalars()
    by_channel = {r.channel: r for r in rows}
    # The agent's locale is Arabic: the Arabic templates were chosen.
    assert "482913" in by_channel[Channel.SMS].content["text"]
    assert by_channel[Channel.SMS].locale == "ar"
    assert "رمز" in by_channel[Channel.SMS].content["text"]
    assert by_channel[Channel.EMAIL].to_address == "agent@alpha.test"
    assert by_channel[Channel.INBOX].status == "delivered"

    inbox = await client.get("/v1/me/notifications", headers=world.headers(world.a, "agent"))
    assert inbox.status_code == 200
    entry = inbox.json()["items"][0]
    assert entry["dispatch_group_id"] == result["dispatch_group_id"]
    assert entry["meta"]["auto_generated"] is False
    assert inbox.json()["unread"] >= 1


async def group_events(session: AsyncSession, world: World, group_id: str) -> list[AuditLog]:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    stmt = select(AuditLog).where(
        AuditLog.action == "dispatch.group.created", AuditLog.entity_id == group_id
    )
    return list((await session.execute(stmt)).scalars())


async def test_a_mirrored_dispatch_emits_dispatch_group_created_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    body = otp_sms(
        recipient_user_id=str(world.a.agent_id),
        payload=otp_payload("314159", expires_min=10, tenant_name="Alpha"),
    )
    first = await client.post(URL, json=body, headers=world.headers(world.a))
    group_id = first.json()["dispatch_group_id"]
    root = next(m["id"] for m in first.json()["messages"] if not m["is_mirror"])
    again = await client.post(URL, json=body, headers=world.headers(world.a))
    assert again.json()["deduplicated"] is True
    [event] = await group_events(session, world, group_id)
    assert event.entity_type == "dispatch_group"
    assert event.actor_user_id == world.a.admin_id
    assert event.after_data is not None
    assert event.after_data["root_message_id"] == root
    assert sorted(event.after_data["channels"]) == ["email", "inbox", "sms"]


async def test_mirror_false_sends_only_the_channel(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        URL,
        json=otp_sms(recipient_user_id=str(world.a.agent_id), mirror=False),
        headers=world.headers(world.a),
    )
    assert response.status_code == 202
    body = response.json()
    assert [m["channel"] for m in body["messages"]] == ["sms"]
    assert body["skipped"] == {"email": "disabled", "inbox": "disabled"}


async def test_same_correlation_key_never_sends_twice(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    before = await sms_usage(session, world)
    body = otp_sms(recipient_user_id=str(world.a.admin_id), correlation_key="otp-1")
    first = await client.post(URL, json=body, headers=world.headers(world.a))
    second = await client.post(URL, json=body, headers=world.headers(world.a))
    assert first.status_code == second.status_code == 202
    assert second.json()["deduplicated"] is True
    assert {m["id"] for m in first.json()["messages"]} == {
        m["id"] for m in second.json()["messages"]
    }
    assert await sms_usage(session, world) == before + 1


class FakeClock:
    """The dispatch time, moved by the test (no sleeping)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_identical_dispatch_without_key_is_deduplicated_within_the_minute(
    session: AsyncSession, world: World
) -> None:
    clock = FakeClock(datetime(2031, 3, 4, 10, 15, 5, tzinfo=UTC))
    notifier = Notifier(NoThrottle(), clock)
    await bind_tenant(session, world.a.id, world.a.admin_id)

    class Sender:
        tenant_id = world.a.id
        user_id = world.a.admin_id

    def reminder(code: str = "111222") -> DispatchRequest:
        return DispatchRequest(
            channel=Channel.SMS,
            to=PHONE,
            family="otp.verify_phone",
            payload=otp_payload(code, expires_min=10, tenant_name="Alpha"),
        )

    first = await notifier.dispatch(session, Sender(), reminder())
    clock.now += timedelta(seconds=50)
    again = await notifier.dispatch(session, Sender(), reminder())
    assert again.deduplicated is True
    assert [m.id for m in again.messages] == [m.id for m in first.messages]
    other = await notifier.dispatch(session, Sender(), reminder("999000"))
    assert other.deduplicated is False

    clock.now += timedelta(days=7)
    next_week = await notifier.dispatch(session, Sender(), reminder())
    assert next_week.deduplicated is False
    assert {m.id for m in next_week.messages}.isdisjoint({m.id for m in first.messages})


async def test_correlation_key_reused_for_another_channel_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    await client.post(URL, json=otp_sms(correlation_key="k-9"), headers=headers)
    response = await client.post(
        URL,
        json=otp_sms(channel="whatsapp", correlation_key="k-9"),
        headers=headers,
    )
    assert response.status_code == 422
    assert "correlation_key" in response.json()["error"]["details"]["fields"]


async def test_marketing_whatsapp_needs_opt_in(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    body = otp_sms(channel="whatsapp", type="marketing", recipient_user_id=str(world.a.agent_id))
    refused = await client.post(URL, json=body, headers=headers)
    assert refused.status_code == 422
    assert error_code(refused) == "CONSENT_REQUIRED"
    assert refused.json()["error"]["details"]["reason"] == "no_opt_in"

    consent = await client.post(
        "/v1/notify/opt-in",
        json={
            "subject_type": "user",
            "subject_id": str(world.a.agent_id),
            "channel": "whatsapp",
            "consent_source": "web_form",
            "consent_text": "Send me new listings on WhatsApp",
        },
        headers=headers,
    )
    assert consent.status_code == 201, consent.text
    accepted = await client.post(URL, json=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    # The marketing e-mail mirror still needs e-mail marketing opt-in (DECISIONS §2.1).
    assert accepted.json()["skipped"]["email"] == "no_opt_in"


async def test_opt_out_and_stop_block_sms(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    stopped = "+201001112233"
    await send_stop(client, world, stopped)
    for kind in ("marketing", "transactional"):
        refused = await client.post(URL, json=otp_sms(to=stopped, type=kind), headers=headers)
        assert refused.status_code == 422, kind
        assert refused.json()["error"]["details"]["reason"] == "stopped"


async def test_opt_in_for_unknown_subject_is_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/v1/notify/opt-in",
        json={
            "subject_type": "user",
            "subject_id": str(world.b.admin_id),
            "channel": "email",
            "consent_source": "web_form",
        },
        headers=world.headers(world.a),
    )
    assert response.status_code == 404


async def test_opt_in_for_a_contact_points_to_the_contact(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/v1/notify/opt-in",
        json={
            "subject_type": "contact",
            "subject_id": str(world.a.admin_id),
            "channel": "email",
            "consent_source": "web_form",
        },
        headers=world.headers(world.a),
    )
    assert response.status_code == 422
    assert (
        "/v1/contacts/{id}/opt-in" in response.json()["error"]["details"]["fields"]["subject_type"]
    )


async def test_monthly_cap_answers_402(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await client.post(
        URL,
        json=otp_sms(payload=otp_payload("1", expires_min=10, tenant_name="Alpha")),
        headers=world.headers(world.a),
    )
    await bind_tenant(session, world.a.id, world.a.admin_id)
    counter = (
        await session.execute(select(UsageCounter).where(UsageCounter.key == "sms.sent"))
    ).scalar_one()
    counter.value = 500
    await session.flush()
    response = await client.post(
        URL,
        json=otp_sms(payload=otp_payload("2", expires_min=10, tenant_name="Alpha")),
        headers=world.headers(world.a),
    )
    assert response.status_code == 402
    assert error_code(response) == "LIMIT_REACHED"
    assert response.json()["error"]["details"] == {
        "key": "sms.monthlyCap",
        "limit": 500,
        "period": "month",
    }


async def _set_per_minute(
    client: httpx.AsyncClient, world: World, target: str, allowance: int
) -> None:
    response = await client.put(
        f"/v1/admin/entitlements/overrides/{target}",
        headers=world.headers(world.a),
        json={"limits": {"sms.perMinute": allowance}},
    )
    assert response.status_code == 200, response.text


def _sms(code: int) -> dict[str, Any]:
    return otp_sms(payload=otp_payload(f"{code:06d}", expires_min=10, tenant_name="Alpha"))


async def test_throttle_answers_429_from_the_workspace_allowance(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> None:
    await app.state.limiter.storage.reset()
    await _set_per_minute(client, world, "tenant", 2)
    for code in (1, 2):
        accepted = await client.post(URL, json=_sms(code), headers=world.headers(world.a))
        assert accepted.status_code == 202, accepted.text
    refused = await client.post(URL, json=_sms(3), headers=world.headers(world.a))
    assert refused.status_code == 429
    assert error_code(refused) == "RATE_LIMIT"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    e_mail = {**_sms(4), "channel": "email", "to": "throttle@a.test"}
    other_channel = await client.post(URL, json=e_mail, headers=world.headers(world.a))
    assert other_channel.status_code == 202, other_channel.text


async def test_throttle_counts_the_workspace_against_the_senders_allowance(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World
) -> None:
    """A person override raises one sender's allowance; the count stays the workspace's."""
    await app.state.limiter.storage.reset()
    await bind_tenant(session, world.a.id, None)
    other_id = await make_user(session, tenant_id=world.a.id, email="ops@a.test", role="admin")
    await _set_per_minute(client, world, "tenant", 1)
    await _set_per_minute(client, world, f"user/{world.a.admin_id}", 3)
    other = bearer(world.settings, world.a.id, other_id)
    assert (await client.post(URL, json=_sms(1), headers=other)).status_code == 202
    assert (await client.post(URL, json=_sms(2), headers=other)).status_code == 429
    admin = world.headers(world.a)
    assert (await client.post(URL, json=_sms(3), headers=admin)).status_code == 202
    assert (await client.post(URL, json=_sms(4), headers=admin)).status_code == 429


async def test_missing_email_template_soft_fails_only_the_mirror(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    session.add(
        MessageTemplate(
            tenant_id=world.a.id,
            channel=Channel.SMS,
            code="promo.sms.launch",
            family="promo.launch",
            name="Launch",
            locale="en",
            body="New units at {{ project }} are open for booking this week.",
            variables={"project": {"required": True}},
            status=TemplateStatus.APPROVED,
        )
    )
    await session.flush()
    response = await client.post(
        URL,
        json={
            "channel": "sms",
            "to": PHONE,
            "family": "promo.launch",
            "payload": {"project": "Palm Hills"},
            "recipient_user_id": str(world.a.admin_id),
        },
        headers=world.headers(world.a),
    )
    assert response.status_code == 202, response.text
    by_channel = {m["channel"]: m for m in response.json()["messages"]}
    assert by_channel["sms"]["status"] == "queued"
    assert by_channel["email"]["status"] == "failed"
    assert by_channel["email"]["error_code"] == "TEMPLATE_MISSING"
    entry = (
        await session.execute(
            select(InboxEntry).where(
                InboxEntry.dispatch_group_id == response.json()["dispatch_group_id"]
            )
        )
    ).scalar_one()
    assert entry.meta["auto_generated"] is True
    assert len(entry.body) <= 140
    assert "Palm Hills" in entry.body


async def test_preferences_turn_off_the_email_mirror(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    saved = await client.put(
        "/v1/me/notification-preferences", json={"email_on_sms": False}, headers=headers
    )
    assert saved.status_code == 200
    assert saved.json()["email_on_sms"] is False
    response = await client.post(
        URL, json=otp_sms(recipient_user_id=str(world.a.admin_id)), headers=headers
    )
    assert sorted(m["channel"] for m in response.json()["messages"]) == ["inbox", "sms"]


async def test_scheduled_inbox_waits_for_its_time(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    response = await client.post(
        URL,
        json={
            "channel": "inbox",
            "family": "task.reminder",
            "payload": {"title": "Call Sara", "due": "tomorrow"},
            "recipient_user_id": str(world.a.admin_id),
            "schedule_at": later,
        },
        headers=world.headers(world.a),
    )
    assert response.status_code == 202
    message = response.json()["messages"][0]
    assert message["status"] == "queued"
    entries = (
        await session.execute(
            select(InboxEntry).where(InboxEntry.outbox_message_id == message["id"])
        )
    ).all()
    assert entries == []
