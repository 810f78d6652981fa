"""Infobip adapters against a loopback fake: Appendix A §2 request shapes, §0 errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from m3crm.modules.notify.providers.base import (
    DeliveryStatus,
    OutboundText,
    ProviderError,
    SendResult,
    WebhookPayloadInvalid,
)
from m3crm.modules.notify.providers.infobip import (
    InfobipSmsProvider,
    InfobipWhatsAppProvider,
    parse_infobip_webhook,
)
from tests.contracts.fakes import FakeInfobip, Fault, serve_fake
from tests.live import free_port

TEXT = OutboundText(
    message_ref="0b7e6a3e-0000-4000-8000-000000000002",
    to_e164="+201000000001",
    body="Your OTP is 123456. Expires in 5 minutes.",
    callback_data="tenant=acme|purpose=otp",
)
NOTIFY_URL = "https://crm.example.com/v1/webhooks/infobip"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeInfobip, str]]:
    fake = FakeInfobip(slow_seconds=1.0)
    with serve_fake(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(served: tuple[FakeInfobip, str]) -> FakeInfobip:
    served[0].reset()
    return served[0]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as c:
        yield c


def sms_provider(
    client: httpx.AsyncClient, base_url: str, notify_url: str | None = NOTIFY_URL
) -> InfobipSmsProvider:
    return InfobipSmsProvider(
        client, api_key="ib-key", base_url=base_url, sender="PropertyCRM", notify_url=notify_url
    )


@pytest.fixture
def sms(
    client: httpx.AsyncClient, served: tuple[FakeInfobip, str], fake: FakeInfobip
) -> InfobipSmsProvider:
    return sms_provider(client, served[1])


@pytest.fixture
def whatsapp(
    client: httpx.AsyncClient, served: tuple[FakeInfobip, str], fake: FakeInfobip
) -> InfobipWhatsAppProvider:
    return InfobipWhatsAppProvider(
        client,
        api_key="ib-key",
        base_url=served[1],
        sender_number="447860099299",
        notify_url=NOTIFY_URL,
    )


async def test_sms_posts_appendix_a_shape(sms: InfobipSmsProvider, fake: FakeInfobip) -> None:
    result = await sms.send_text(TEXT)

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/sms/2/text/advanced")
    assert request.headers["authorization"] == "App ib-key"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "messages": [
            {
                "from": "PropertyCRM",
                "destinations": [{"to": "+201000000001", "messageId": TEXT.message_ref}],
                "text": "Your OTP is 123456. Expires in 5 minutes.",
                "notifyUrl": NOTIFY_URL,
                "callbackData": "tenant=acme|purpose=otp",
            }
        ]
    }
    assert result == SendResult("infobip", TEXT.message_ref)


async def test_sms_leaves_out_absent_delivery_options(
    client: httpx.AsyncClient, served: tuple[FakeInfobip, str], fake: FakeInfobip
) -> None:
    text = OutboundText(message_ref="ref-bare", to_e164="+201000000001", body="hi")
    await sms_provider(client, served[1], notify_url=None).send_text(text)
    assert not {"notifyUrl", "callbackData"} & fake.requests[0].json["messages"][0].keys()


async def test_whatsapp_posts_appendix_a_shape(
    whatsapp: InfobipWhatsAppProvider, fake: FakeInfobip
) -> None:
    result = await whatsapp.send_text(TEXT)

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/whatsapp/1/message/text")
    assert request.headers["authorization"] == "App ib-key"
    assert request.json == {
        "from": "447860099299",
        "to": "201000000001",
        "messageId": TEXT.message_ref,
        "content": {"text": "Your OTP is 123456. Expires in 5 minutes."},
        "callbackData": "tenant=acme|purpose=otp",
        "notifyUrl": NOTIFY_URL,
    }
    assert result == SendResult("infobip", TEXT.message_ref)


async def test_resend_of_same_ref_is_recognised_as_duplicate(
    sms: InfobipSmsProvider, fake: FakeInfobip
) -> None:
    assert await sms.send_text(TEXT) == await sms.send_text(TEXT)
    assert fake.duplicates == 1


async def test_rejected_status_in_a_2xx_is_final(
    sms: InfobipSmsProvider, fake: FakeInfobip
) -> None:
    fake.fail_next(Fault.REJECTED)
    with pytest.raises(ProviderError) as caught:
        await sms.send_text(TEXT)
    error = caught.value
    assert (error.code, error.retryable) == ("INVALID_REQUEST", False)
    assert error.provider_code == "REJECTED_DESTINATION"


@pytest.mark.parametrize(
    ("fault", "code", "retryable", "provider_code"),
    [
        (Fault.RATE_LIMITED, "RATE_LIMITED", True, "TOO_MANY_REQUESTS"),
        (Fault.SERVER_ERROR, "TEMPORARY_FAILURE", True, "GENERAL_ERROR"),
        (Fault.UNAUTHORIZED, "UNAUTHORIZED", False, "UNAUTHORIZED"),
        (Fault.BAD_REQUEST, "INVALID_REQUEST", False, "BAD_REQUEST"),
        (Fault.MALFORMED, "PROVIDER_ERROR", False, None),
    ],
)
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_failures_are_normalised(
    sms: InfobipSmsProvider,
    whatsapp: InfobipWhatsAppProvider,
    fake: FakeInfobip,
    channel: str,
    fault: Fault,
    code: str,
    retryable: bool,
    provider_code: str | None,
) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError) as caught:
        await (sms if channel == "sms" else whatsapp).send_text(TEXT)

    error = caught.value.to_error()["error"]
    assert error["code"] == code
    assert error["retryable"] is retryable
    assert error["provider"] == "infobip"
    assert error["providerCode"] == provider_code
    assert TEXT.body not in error["message"]


async def test_timeout_is_retryable_and_the_retry_is_the_same_message(
    served: tuple[FakeInfobip, str], fake: FakeInfobip
) -> None:
    fake.fail_next(Fault.SLOW)
    async with httpx.AsyncClient(timeout=0.2) as short:
        with pytest.raises(ProviderError) as caught:
            await sms_provider(short, served[1]).send_text(TEXT)
    assert (caught.value.code, caught.value.retryable) == ("TEMPORARY_FAILURE", True)

    async with httpx.AsyncClient(timeout=5.0) as patient:
        result = await sms_provider(patient, served[1]).send_text(TEXT)
    assert result.provider_message_id == TEXT.message_ref
    assert fake.duplicates == 1


async def test_unreachable_provider_is_retryable(client: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderError) as caught:
        await sms_provider(client, f"http://127.0.0.1:{free_port()}").send_text(TEXT)
    assert (caught.value.code, caught.value.retryable) == ("TEMPORARY_FAILURE", True)


async def mocked_sms_send(status: int, body: Any) -> SendResult:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as mocked:
        return await sms_provider(mocked, "https://ib.test").send_text(TEXT)


async def test_sms_without_an_echoed_id_keeps_our_ref() -> None:
    result = await mocked_sms_send(200, {"messages": [{"to": "+201000000001", "status": {}}]})
    assert result == SendResult("infobip", TEXT.message_ref)


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (200, {"messages": []}, "PROVIDER_ERROR", False),
        (200, {"bulkId": "x"}, "PROVIDER_ERROR", False),
        (200, {"messages": ["x"]}, "PROVIDER_ERROR", False),
        (403, {"requestError": {"serviceException": {}}}, "UNAUTHORIZED", False),
        (404, {"requestError": "?"}, "INVALID_REQUEST", False),
        (502, None, "TEMPORARY_FAILURE", True),
    ],
)
async def test_other_statuses_and_bodies(
    status: int, body: Any, code: str, retryable: bool
) -> None:
    with pytest.raises(ProviderError) as caught:
        await mocked_sms_send(status, body)
    assert (caught.value.code, caught.value.retryable, caught.value.provider_code) == (
        code,
        retryable,
        None,
    )


# Appendix A §2.3, verbatim.
SPEC_REPORT: list[dict[str, Any]] = [
    {
        "results": [
            {
                "messageId": "abc123",
                "to": "201000000001",
                "sentAt": "2025-08-09T10:40:00Z",
                "doneAt": "2025-08-09T10:40:10Z",
                "status": {
                    "groupId": 3,
                    "groupName": "DELIVERED",
                    "id": 5,
                    "name": "DELIVERED_TO_HANDSET",
                },
                "price": {"pricePerMessage": 0.035, "currency": "USD"},
            }
        ]
    }
]


def test_webhook_accepts_the_spec_sample() -> None:
    [event] = parse_infobip_webhook(SPEC_REPORT)

    assert event.provider == "infobip"
    assert event.provider_message_id == "abc123"
    assert event.status is DeliveryStatus.DELIVERED
    assert event.provider_code == "DELIVERED_TO_HANDSET"
    assert event.recipient == "201000000001"
    assert event.occurred_at == datetime(2025, 8, 9, 10, 40, 10, tzinfo=UTC)
    assert event.reason is None
    assert parse_infobip_webhook(SPEC_REPORT[0]) == [event]


def report(group: str, *, error: Any = None, done_at: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "messageId": "m-1",
        "status": {"groupName": group, "name": f"{group}_DETAIL"},
    }
    if error is not None:
        result["error"] = error
    if done_at is not None:
        result["doneAt"] = done_at
    return {"results": [result]}


@pytest.mark.parametrize(
    ("group", "status"),
    [
        ("DELIVERED", DeliveryStatus.DELIVERED),
        ("PENDING", DeliveryStatus.PENDING),
        ("ACCEPTED", DeliveryStatus.PENDING),
        ("UNDELIVERABLE", DeliveryStatus.FAILED),
        ("EXPIRED", DeliveryStatus.FAILED),
        ("REJECTED", DeliveryStatus.FAILED),
    ],
)
def test_webhook_status_groups(group: str, status: DeliveryStatus) -> None:
    [event] = parse_infobip_webhook(report(group))
    assert event.status is status
    assert event.provider_code == f"{group}_DETAIL"


def test_webhook_reason_is_the_error_name_unless_no_error() -> None:
    failed = report("UNDELIVERABLE", error={"groupId": 1, "id": 27, "name": "EC_ABSENT_SUBSCRIBER"})
    fine = report("DELIVERED", error={"groupId": 0, "id": 0, "name": "NO_ERROR"})
    assert parse_infobip_webhook(failed)[0].reason == "EC_ABSENT_SUBSCRIBER"
    assert parse_infobip_webhook(fine)[0].reason is None


def test_webhook_event_id_is_stable_and_tells_reports_apart() -> None:
    first = parse_infobip_webhook(report("PENDING", done_at="2025-08-09T10:40:00.000+0000"))
    again = parse_infobip_webhook(report("PENDING", done_at="2025-08-09T10:40:00.000+0000"))
    later = parse_infobip_webhook(report("DELIVERED", done_at="2025-08-09T10:40:09.000+0000"))
    assert first[0].event_id == again[0].event_id != later[0].event_id
    assert first[0].occurred_at == datetime(2025, 8, 9, 10, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"messageId": "m-1", "status": {"groupName": "DELIVERED", "name": "X"}},
        {"results": {"messageId": "m-1"}},
        report("SEEN"),
        {"results": [{"messageId": "m-1"}]},
        {"results": [{"messageId": "m-1", "status": {"groupName": "DELIVERED"}}]},
        {"results": [{"messageId": 7, "status": {"groupName": "DELIVERED", "name": "X"}}]},
        {"results": ["abc123"]},
        report("DELIVERED", done_at="soon"),
        report("UNDELIVERABLE", error="EC_ABSENT_SUBSCRIBER"),
        [SPEC_REPORT[0], None],
        "abc123",
    ],
)
def test_webhook_rejects_unknown_shapes(body: Any) -> None:
    with pytest.raises(WebhookPayloadInvalid):
        parse_infobip_webhook(body)
