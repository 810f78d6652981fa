"""Brevo transactional e-mail (spec Appendix A §1): the send adapter and the webhook parser.

The outbox row's `message_ref` (its UUID) is sent as `headers.idempotencyKey` in the JSON
body, the field Brevo documents for idempotent transactional sends (Brevo drops a repeat
within the key's TTL, 15-30 minutes), and as the e-mail header `X-M3-Message-Ref`, so a
send retried after a timeout is the same message to Brevo and can be traced back to its
row from the received mail. Brevo reads no HTTP `Idempotency-Key` header.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from m3crm.modules.notify.providers.base import (
    DeliveryEvent,
    DeliveryStatus,
    OutboundEmail,
    ProviderError,
    SendResult,
    WebhookPayloadInvalid,
    event_digest,
    malformed_answer,
    optional_str,
    parse_time,
    post_json,
    required_str,
)

PROVIDER = "brevo"

# `deferred` is a transient delay that Brevo keeps retrying, so it stays PENDING; the
# final outcome (delivered, bounce, error) arrives as its own event.
# Only evidence that the address itself is bad or unwilling (hard bounce, invalid
# address, complaint) is a BOUNCED/COMPLAINED report, which suppresses the address.
# A soft bounce (full mailbox, server down) and `blocked` (Brevo refused to send this
# message, e.g. a contact blocked on Brevo's side) fail the message without suppressing.
EVENT_STATUS: dict[str, DeliveryStatus] = {
    "request": DeliveryStatus.PENDING,
    "sent": DeliveryStatus.PENDING,
    "deferred": DeliveryStatus.PENDING,
    "delivered": DeliveryStatus.DELIVERED,
    "hard_bounce": DeliveryStatus.BOUNCED,
    "soft_bounce": DeliveryStatus.FAILED,
    "bounce": DeliveryStatus.BOUNCED,
    "blocked": DeliveryStatus.FAILED,
    "invalid_email": DeliveryStatus.BOUNCED,
    "spam": DeliveryStatus.COMPLAINED,
    "complaint": DeliveryStatus.COMPLAINED,
    "opened": DeliveryStatus.OPENED,
    "unique_opened": DeliveryStatus.OPENED,
    "proxy_open": DeliveryStatus.OPENED,
    "unique_proxy_open": DeliveryStatus.OPENED,
    "click": DeliveryStatus.CLICKED,
    "error": DeliveryStatus.FAILED,
}


class BrevoEmailProvider:
    """`EmailProvider` over Brevo's `POST /v3/smtp/email`.

    The caller owns `client` (its pool and timeouts); every failure, transport errors
    included, leaves as a `ProviderError` whose message never contains the e-mail body.
    """

    name = PROVIDER

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        sender_email: str,
        sender_name: str,
        base_url: str = "https://api.brevo.com",
    ) -> None:
        self._client = client
        self._api_key = api_key
        self._sender = {"email": sender_email, "name": sender_name}
        self._url = f"{base_url.rstrip('/')}/v3/smtp/email"

    async def send(self, email: OutboundEmail) -> SendResult:
        body = await post_json(
            self._client,
            self._url,
            provider=PROVIDER,
            headers={"api-key": self._api_key},
            payload=self._payload(email),
            error_fields=_error_fields,
        )
        message_id = body.get("messageId") if isinstance(body, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise malformed_answer(PROVIDER, "no messageId")
        return SendResult(PROVIDER, message_id)

    def _payload(self, email: OutboundEmail) -> dict[str, Any]:
        recipient = {"email": email.to}
        if email.to_name:
            recipient["name"] = email.to_name
        payload: dict[str, Any] = {
            "to": [recipient],
            "sender": self._sender,
            "headers": {
                "idempotencyKey": email.message_ref,
                "X-M3-Message-Ref": email.message_ref,
            },
        }
        if email.provider_template_id is not None:
            payload["templateId"] = _template_id(email.provider_template_id)
            if email.params:
                payload["params"] = dict(email.params)
        else:
            payload |= {
                "subject": email.subject,
                "htmlContent": email.html,
                "textContent": email.text,
            }
        if email.tags:
            payload["tags"] = list(email.tags)
        return payload


def _template_id(value: str) -> int:
    """Brevo template ids are integers; anything else is our configuration error."""
    if not value.isdigit():
        raise ProviderError(
            "INVALID_REQUEST",
            f"brevo template id must be an integer, got {value!r}",
            provider=PROVIDER,
            retryable=False,
        )
    return int(value)


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """Brevo's error body is `{"code": "...", "message": "..."}`; either may be absent."""
    if not isinstance(body, dict):
        return None, None
    code, message = body.get("code"), body.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


def parse_brevo_webhook(body: Any) -> list[DeliveryEvent]:
    """Normalise a Brevo webhook body: one event object or a list of them.

    All-or-nothing: one event of an unknown name or shape rejects the whole body with
    `WebhookPayloadInvalid`, so nothing is half-ingested.
    """
    items = body if isinstance(body, list) else [body]
    return [_event(item) for item in items]


def _event(item: Any) -> DeliveryEvent:
    if not isinstance(item, dict):
        raise WebhookPayloadInvalid("brevo event is not an object")
    event = required_str(item, "event")
    message_id = required_str(item, "messageId")
    status = EVENT_STATUS.get(event)
    if status is None:
        raise WebhookPayloadInvalid(f"unknown brevo event {event!r}")
    recipient = optional_str(item, "email")
    date = optional_str(item, "date")
    return DeliveryEvent(
        provider=PROVIDER,
        event_id=_event_id(item) or event_digest(event, message_id, date, recipient),
        provider_message_id=message_id,
        status=status,
        occurred_at=_occurred_at(item.get("ts_event"), date),
        recipient=recipient,
        reason=optional_str(item, "reason"),
        provider_code=event,
    )


def _event_id(item: dict[str, Any]) -> str | None:
    """Brevo's own event `id`, when it sends one."""
    event_id = item.get("id")
    if event_id is None:
        return None
    if isinstance(event_id, bool) or not isinstance(event_id, str | int):
        raise WebhookPayloadInvalid("brevo event 'id' is not a string or integer")
    return str(event_id)


def _occurred_at(ts_event: Any, date: str | None) -> datetime | None:
    """`ts_event` (epoch seconds, UTC) wins over `date`, whose zone Brevo may omit."""
    if ts_event is None:
        return parse_time(date) if date is not None else None
    if isinstance(ts_event, bool) or not isinstance(ts_event, int | float):
        raise WebhookPayloadInvalid("brevo 'ts_event' is not a number")
    try:
        return datetime.fromtimestamp(ts_event, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise WebhookPayloadInvalid("brevo 'ts_event' is out of range") from exc
