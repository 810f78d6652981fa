"""What the delivery pipeline asks of a provider, and what a provider reports back.

Adapters receive content already rendered from our template store: the outbox row's id
travels as `message_ref` and is sent to the provider as its idempotency key / client
message id, so a send retried after a crash can be recognised as the same message.
Every adapter failure is a `ProviderError` carrying the normalised error model of spec
Appendix A §0; `retryable` drives the outbox's retry-or-dead-letter decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

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
