"""Brevo adapter against a loopback fake: Appendix A §1 request shape, §0 error model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from m3crm.modules.notify.providers.base import (
    DeliveryStatus,
    OutboundEmail,
    ProviderError,
    SendResult,
    WebhookPayloadInvalid,
)
from m3crm.modules.notify.providers.brevo import BrevoEmailProvider, parse_brevo_webhook
from tests.contracts.fakes import FakeBrevo, Fault, serve_fake
from tests.live import free_port

HTML = "<p>سري: رمز التحقق 123456</p>"
EMAIL = OutboundEmail(
    message_ref="0b7e6a3e-0000-4000-8000-000000000001",
    to="user@example.com",
    to_name="Sara Ali",
    subject="تأكيد بريدك",
    html=HTML,
    text="رمز التحقق 123456",
    tags=("transactional", "verification"),
)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeBrevo, str]]:
    fake = FakeBrevo(slow_seconds=1.0)
    with serve_fake(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(served: tuple[FakeBrevo, str]) -> FakeBrevo:
    served[0].reset()
    return served[0]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as c:
        yield c


def provider(client: httpx.AsyncClient, base_url: str) -> BrevoEmailProvider:
    return BrevoEmailProvider(
        client,
        api_key="xkeysib-test",
        sender_email="no-reply@m3crm.example",
        sender_name="M3 CRM",
        base_url=base_url,
    )


@pytest.fixture
def brevo(
    client: httpx.AsyncClient, served: tuple[FakeBrevo, str], fake: FakeBrevo
) -> BrevoEmailProvider:
    return provider(client, served[1])


async def test_send_posts_appendix_a_shape(brevo: BrevoEmailProvider, fake: FakeBrevo) -> None:
    result = await brevo.send(EMAIL)

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/v3/smtp/email")
    assert request.headers["api-key"] == "xkeysib-test"
    assert "idempotency-key" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "to": [{"email": "user@example.com", "name": "Sara Ali"}],
        "sender": {"email": "no-reply@m3crm.example", "name": "M3 CRM"},
        "subject": "تأكيد بريدك",
        "htmlContent": HTML,
        "textContent": "رمز التحقق 123456",
        "tags": ["transactional", "verification"],
        "headers": {"idempotencyKey": EMAIL.message_ref, "X-M3-Message-Ref": EMAIL.message_ref},
    }
    assert result == SendResult("brevo", fake.accepted[EMAIL.message_ref])
    assert result.provider_message_id.startswith("<")


async def test_template_send_carries_template_id_and_params_only(
    brevo: BrevoEmailProvider, fake: FakeBrevo
) -> None:
    email = OutboundEmail(
        message_ref="ref-template",
        to="user@example.com",
        subject="unused",
        html="unused",
        text="unused",
        provider_template_id="42",
        params={"firstName": "Sara", "ctaUrl": "https://crm.example.com/verify?token=abc"},
    )
    await brevo.send(email)

    body = fake.requests[0].json
    assert body["to"] == [{"email": "user@example.com"}]
    assert body["templateId"] == 42
    assert body["params"] == {
        "firstName": "Sara",
        "ctaUrl": "https://crm.example.com/verify?token=abc",
    }
    assert not {"subject", "htmlContent", "textContent", "tags"} & body.keys()


async def test_non_numeric_template_id_is_invalid_before_sending(
    brevo: BrevoEmailProvider, fake: FakeBrevo
) -> None:
    email = OutboundEmail("ref", "u@example.com", "s", "h", "t", provider_template_id="welcome")
    with pytest.raises(ProviderError) as caught:
        await brevo.send(email)
    assert (caught.value.code, caught.value.retryable) == ("INVALID_REQUEST", False)
    assert fake.requests == []


async def test_resend_of_same_ref_is_recognised_as_duplicate(
    brevo: BrevoEmailProvider, fake: FakeBrevo
) -> None:
    first = await brevo.send(EMAIL)
    second = await brevo.send(EMAIL)
    assert first == second
    assert fake.duplicates == 1


@pytest.mark.parametrize(
    ("fault", "code", "retryable", "provider_code"),
    [
        (Fault.RATE_LIMITED, "RATE_LIMITED", True, "too_many_requests"),
        (Fault.SERVER_ERROR, "TEMPORARY_FAILURE", True, "internal_error"),
        (Fault.UNAUTHORIZED, "UNAUTHORIZED", False, "unauthorized"),
        (Fault.BAD_REQUEST, "INVALID_REQUEST", False, "invalid_parameter"),
        (Fault.MALFORMED, "PROVIDER_ERROR", False, None),
    ],
)
async def test_failures_are_normalised(
    brevo: BrevoEmailProvider,
    fake: FakeBrevo,
    fault: Fault,
    code: str,
    retryable: bool,
    provider_code: str | None,
) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError) as caught:
        await brevo.send(EMAIL)

    error = caught.value.to_error()["error"]
    assert error["code"] == code
    assert error["retryable"] is retryable
    assert error["provider"] == "brevo"
    assert error["providerCode"] == provider_code
    assert HTML not in error["message"]
    assert EMAIL.text not in error["message"]


async def test_timeout_is_retryable_and_the_retry_is_the_same_message(
    served: tuple[FakeBrevo, str], fake: FakeBrevo
) -> None:
    fake.fail_next(Fault.SLOW)
    async with httpx.AsyncClient(timeout=0.2) as short:
        with pytest.raises(ProviderError) as caught:
            await provider(short, served[1]).send(EMAIL)
    assert (caught.value.code, caught.value.retryable) == ("TEMPORARY_FAILURE", True)

    async with httpx.AsyncClient(timeout=5.0) as patient:
        result = await provider(patient, served[1]).send(EMAIL)
    assert result.provider_message_id == fake.accepted[EMAIL.message_ref]
    assert fake.duplicates == 1


async def test_missing_api_key_is_unauthorized(
    client: httpx.AsyncClient, served: tuple[FakeBrevo, str], fake: FakeBrevo
) -> None:
    keyless = BrevoEmailProvider(
        client, api_key="", sender_email="a@m3crm.example", sender_name="M3", base_url=served[1]
    )
    with pytest.raises(ProviderError) as caught:
        await keyless.send(EMAIL)
    assert (caught.value.code, caught.value.retryable) == ("UNAUTHORIZED", False)
    assert fake.accepted == {}


async def test_unreachable_provider_is_retryable(client: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider(client, f"http://127.0.0.1:{free_port()}").send(EMAIL)
    assert (caught.value.code, caught.value.retryable) == ("TEMPORARY_FAILURE", True)


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (403, {"code": "permission_denied"}, "UNAUTHORIZED", False),
        (404, {"code": "document_not_found"}, "INVALID_REQUEST", False),
        (422, None, "INVALID_REQUEST", False),
        (408, None, "TEMPORARY_FAILURE", True),
        (503, None, "TEMPORARY_FAILURE", True),
        (201, {"messageIds": []}, "PROVIDER_ERROR", False),
        (201, ["<id@brevo>"], "PROVIDER_ERROR", False),
    ],
)
async def test_other_statuses_and_bodies(
    status: int, body: Any, code: str, retryable: bool
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as mocked:
        with pytest.raises(ProviderError) as caught:
            await provider(mocked, "https://api.brevo.test").send(EMAIL)
    assert (caught.value.code, caught.value.retryable) == (code, retryable)


# Appendix A §1.3, verbatim.
SPEC_EVENTS: list[dict[str, Any]] = [
    {
        "event": "delivered",
        "email": "user@example.com",
        "messageId": "<2025-08-09.abc123@brevo>",
        "date": "2025-08-09T10:40:00Z",
    },
    {
        "event": "bounce",
        "email": "user@example.com",
        "reason": "mailbox_full",
        "messageId": "<2025-08-09.abc123@brevo>",
        "date": "2025-08-09T10:41:00Z",
    },
    {
        "event": "opened",
        "email": "user@example.com",
        "date": "2025-08-09T10:50:10Z",
        "messageId": "<2025-08-09.abc123@brevo>",
    },
]


def test_webhook_accepts_the_spec_sample() -> None:
    events = parse_brevo_webhook(SPEC_EVENTS)

    assert [e.status for e in events] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.BOUNCED,
        DeliveryStatus.OPENED,
    ]
    delivered, bounced, _ = events
    assert delivered.provider == "brevo"
    assert delivered.provider_message_id == "<2025-08-09.abc123@brevo>"
    assert delivered.recipient == "user@example.com"
    assert delivered.occurred_at == datetime(2025, 8, 9, 10, 40, tzinfo=UTC)
    assert (bounced.reason, bounced.provider_code) == ("mailbox_full", "bounce")
    assert len({e.event_id for e in events}) == 3
    assert [e.event_id for e in parse_brevo_webhook(SPEC_EVENTS)] == [e.event_id for e in events]


def test_webhook_accepts_a_single_event_with_brevo_id_and_ts_event() -> None:
    [event] = parse_brevo_webhook(
        {
            "event": "hard_bounce",
            "email": "user@example.com",
            "id": 123456,
            "date": "2025-08-09 12:41:00",
            "ts_event": 1754736060,
            "messageId": "<x@brevo>",
            "reason": "unknown user",
        }
    )
    assert event.event_id == "123456"
    assert event.status is DeliveryStatus.BOUNCED
    assert event.occurred_at == datetime(2025, 8, 9, 10, 41, tzinfo=UTC)


def test_webhook_reads_a_zone_less_date_as_utc() -> None:
    [event] = parse_brevo_webhook(
        {"event": "click", "messageId": "<x>", "date": "2025-08-09 10:41:00"}
    )
    assert event.occurred_at == datetime(2025, 8, 9, 10, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("request", DeliveryStatus.PENDING),
        ("sent", DeliveryStatus.PENDING),
        ("deferred", DeliveryStatus.PENDING),
        ("delivered", DeliveryStatus.DELIVERED),
        ("hard_bounce", DeliveryStatus.BOUNCED),
        ("soft_bounce", DeliveryStatus.FAILED),
        ("blocked", DeliveryStatus.FAILED),
        ("invalid_email", DeliveryStatus.BOUNCED),
        ("spam", DeliveryStatus.COMPLAINED),
        ("complaint", DeliveryStatus.COMPLAINED),
        ("unique_opened", DeliveryStatus.OPENED),
        ("click", DeliveryStatus.CLICKED),
        ("error", DeliveryStatus.FAILED),
    ],
)
def test_webhook_event_names(name: str, status: DeliveryStatus) -> None:
    [event] = parse_brevo_webhook({"event": name, "messageId": "<x@brevo>"})
    assert event.status is status
    assert event.occurred_at is None


@pytest.mark.parametrize(
    "body",
    [
        {"event": "list_addition", "messageId": "<x>"},
        {"event": "delivered"},
        {"messageId": "<x>"},
        {"event": "delivered", "messageId": 42},
        {"event": "delivered", "messageId": "<x>", "email": ["a@b.c"]},
        {"event": "delivered", "messageId": "<x>", "date": "yesterday"},
        {"event": "delivered", "messageId": "<x>", "ts_event": "1754736060"},
        {"event": "delivered", "messageId": "<x>", "id": 1.5},
        [SPEC_EVENTS[0], "delivered"],
        "delivered",
        None,
    ],
)
def test_webhook_rejects_unknown_shapes(body: Any) -> None:
    with pytest.raises(WebhookPayloadInvalid):
        parse_brevo_webhook(body)
