"""What the delivery pipeline asks of a provider, and what a provider reports back.

Adapters receive content already rendered from our template store: the outbox row's id
travels as `message_ref` and is sent to the provider as its idempotency key / client
message id, so a send retried after a crash can be recognised as the same message.
Every adapter failure is a `ProviderError` carrying the normalised error model of spec
Appendix A §0; `retryable` drives the outbox's retry-or-dead-letter decision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

import httpx

ProviderErrorCode = Literal[
    "PROVIDER_ERROR", "INVALID_REQUEST", "UNAUTHORIZED", "RATE_LIMITED", "TEMPORARY_FAILURE"
]


class ProviderError(Exception):
    """A send that did not go through, in Appendix A §0's normalised shape."""

    def __init__(
        self,
        code: ProviderErrorCode,
        message: str,
        *,
        provider: str,
        provider_code: str | None = None,
        retryable: bool,
    ) -> None:
        super().__init__(message)
        self.code: ProviderErrorCode = code
        self.message = message
        self.provider = provider
        self.provider_code = provider_code
        self.retryable = retryable

    def to_error(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "provider": self.provider,
                "providerCode": self.provider_code,
                "retryable": self.retryable,
            }
        }


@dataclass(frozen=True, slots=True)
class OutboundEmail:
    message_ref: str
    to: str
    subject: str
    html: str
    text: str
    to_name: str | None = None
    tags: tuple[str, ...] = ()
    provider_template_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundText:
    """An SMS or WhatsApp text; `to_e164` is already validated E.164 (`+2010…`)."""

    message_ref: str
    to_e164: str
    body: str
    callback_data: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    provider: str
    provider_message_id: str


class EmailProvider(Protocol):
    name: str

    async def send(self, email: OutboundEmail) -> SendResult: ...


class SmsProvider(Protocol):
    name: str

    async def send_text(self, message: OutboundText) -> SendResult: ...


class WhatsAppProvider(Protocol):
    name: str

    async def send_text(self, message: OutboundText) -> SendResult: ...


class DeliveryStatus(StrEnum):
    """What a provider webhook says happened to a message we sent."""

    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    OPENED = "opened"
    CLICKED = "clicked"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """One event of a provider webhook, normalised.

    `event_id` is stable across re-deliveries of the same webhook (the provider's event
    id, or a digest of the fields that identify the event) and is what makes ingestion
    idempotent.
    """

    provider: str
    event_id: str
    provider_message_id: str
    status: DeliveryStatus
    occurred_at: datetime | None
    recipient: str | None = None
    reason: str | None = None
    provider_code: str | None = None


class WebhookPayloadInvalid(ValueError):
    """The body is not a webhook shape we know (answered 400 `DLR_INVALID`)."""


# Shared by the HTTP adapters (Brevo, Infobip) so that §0 is implemented once.

ErrorFields = Callable[[Any], tuple[str | None, str | None]]
"""Reads a provider's error body (decoded JSON or None) into (providerCode, its text)."""


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    payload: Mapping[str, Any],
    error_fields: ErrorFields,
) -> Any:
    """POST `payload` and return the decoded JSON of a 2xx answer, else raise per §0.

    Transport failures (refused, timeouts, dropped connections) are retryable
    TEMPORARY_FAILURE: the request may have reached the provider, which is safe only
    because callers MUST put the message's idempotency key in `headers` or `payload`.
    A 2xx that is not JSON is a PROVIDER_ERROR, not retried.
    """
    try:
        response = await client.post(url, headers=dict(headers), json=payload)
    except httpx.TransportError as exc:
        raise ProviderError(
            "TEMPORARY_FAILURE",
            f"{provider} unreachable: {type(exc).__name__}",
            provider=provider,
            retryable=True,
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.is_success:
        provider_code, detail = error_fields(body)
        raise _error_for_status(
            provider, response.status_code, provider_code=provider_code, detail=detail
        )
    if body is None:
        raise malformed_answer(provider, "a body that is not JSON")
    return body


def _error_for_status(
    provider: str, status: int, *, provider_code: str | None, detail: str | None
) -> ProviderError:
    """§0 for an HTTP answer that is not a success.

    401/403 are final (a credential a retry cannot fix); 429, 408 and 5xx are
    retryable; every other 4xx is a request we built wrong, INVALID_REQUEST and final.
    `detail` is the provider's own text, never our message content.
    """
    code: ProviderErrorCode
    if status in (401, 403):
        code, retryable = "UNAUTHORIZED", False
    elif status == 429:
        code, retryable = "RATE_LIMITED", True
    elif status == 408 or status >= 500:
        code, retryable = "TEMPORARY_FAILURE", True
    elif 400 <= status < 500:
        code, retryable = "INVALID_REQUEST", False
    else:
        code, retryable = "PROVIDER_ERROR", False
    message = f"{provider} answered HTTP {status}" + (f": {detail[:200]}" if detail else "")
    return ProviderError(
        code, message, provider=provider, provider_code=provider_code, retryable=retryable
    )


def malformed_answer(provider: str, what: str) -> ProviderError:
    """A success status whose body we cannot read: not retried, since the provider may
    well have accepted the message."""
    return ProviderError(
        "PROVIDER_ERROR", f"{provider} answered with {what}", provider=provider, retryable=False
    )


# Shared by the webhook parsers: a body that breaks any of these is WebhookPayloadInvalid.


def required_str(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise WebhookPayloadInvalid(f"webhook event has no {key!r} string")
    return value


def optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise WebhookPayloadInvalid(f"webhook event {key!r} is not a string")
    return value


def parse_time(value: str) -> datetime:
    """ISO-8601, including Infobip's `+0000` offsets; a zone-less time is read as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise WebhookPayloadInvalid(f"webhook time is not ISO-8601: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def event_digest(*parts: str | None) -> str:
    """A stable event id for providers that send none: same fields, same id."""
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
