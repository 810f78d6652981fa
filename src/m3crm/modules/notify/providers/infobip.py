"""Infobip SMS and WhatsApp (spec Appendix A §2): the send adapters and the DLR parser.

Infobip lets the client choose the message id, so the outbox row's `message_ref` is sent
as `messageId`: a send retried after a timeout is recognised by Infobip as the same
message, and delivery reports carry our own id back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import httpx

from m3crm.modules.notify.providers.base import (
    DeliveryEvent,
    DeliveryStatus,
    OutboundText,
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

PROVIDER = "infobip"

GROUP_STATUS: dict[str, DeliveryStatus] = {
    "PENDING": DeliveryStatus.PENDING,
    "ACCEPTED": DeliveryStatus.PENDING,
    "DELIVERED": DeliveryStatus.DELIVERED,
    "UNDELIVERABLE": DeliveryStatus.FAILED,
    "EXPIRED": DeliveryStatus.FAILED,
    "REJECTED": DeliveryStatus.FAILED,
}


class _InfobipSender(ABC):
    """One Infobip send endpoint; subclasses only build the request body."""

    name = PROVIDER
    _path: str

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str,
        notify_url: str | None,
    ) -> None:
        self._client = client
        self._api_key = api_key
        self._url = f"{base_url.rstrip('/')}{self._path}"
        self._notify_url = notify_url

    async def send_text(self, message: OutboundText) -> SendResult:
        body = await post_json(
            self._client,
            self._url,
            provider=PROVIDER,
            headers={"Authorization": f"App {self._api_key}"},
            payload=self._payload(message),
            error_fields=_error_fields,
        )
        return SendResult(PROVIDER, _accepted_id(body, message.message_ref))

    @abstractmethod
    def _payload(self, message: OutboundText) -> dict[str, Any]: ...

    def _delivery_options(self, message: OutboundText) -> dict[str, str]:
        """`callbackData` and `notifyUrl`, each only when there is one."""
        options = {"callbackData": message.callback_data, "notifyUrl": self._notify_url}
        return {key: value for key, value in options.items() if value is not None}


class InfobipSmsProvider(_InfobipSender):
    """`SmsProvider` over `POST /sms/2/text/advanced`, one message to one destination."""

    _path = "/sms/2/text/advanced"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str,
        sender: str,
        notify_url: str | None = None,
    ) -> None:
        super().__init__(client, api_key=api_key, base_url=base_url, notify_url=notify_url)
        self._sender = sender

    def _payload(self, message: OutboundText) -> dict[str, Any]:
        return {
            "messages": [
                {
                    "from": self._sender,
                    "destinations": [{"to": message.to_e164, "messageId": message.message_ref}],
                    "text": message.body,
                    **self._delivery_options(message),
                }
            ]
        }


class InfobipWhatsAppProvider(_InfobipSender):
    """`WhatsAppProvider` over `POST /whatsapp/1/message/text` (a free-form text)."""

    _path = "/whatsapp/1/message/text"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str,
        sender_number: str,
        notify_url: str | None = None,
    ) -> None:
        super().__init__(client, api_key=api_key, base_url=base_url, notify_url=notify_url)
        self._sender_number = sender_number

    def _payload(self, message: OutboundText) -> dict[str, Any]:
        return {
            "from": self._sender_number,
            "to": message.to_e164.removeprefix("+"),
            "messageId": message.message_ref,
            "content": {"text": message.body},
            **self._delivery_options(message),
        }


def _accepted_id(body: Any, message_ref: str) -> str:
    """`messages[0].messageId` (our `message_ref` when Infobip echoes none back).

    A `REJECTED` status group inside a 2xx answer is a final INVALID_REQUEST.
    """
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise malformed_answer(PROVIDER, "no messages[0] object")
    first: dict[str, Any] = messages[0]
    status = first.get("status")
    if isinstance(status, dict) and status.get("groupName") == "REJECTED":
        name = status.get("name")
        raise ProviderError(
            "INVALID_REQUEST",
            f"infobip rejected the message: {name}",
            provider=PROVIDER,
            provider_code=name if isinstance(name, str) else None,
            retryable=False,
        )
    message_id = first.get("messageId")
    return message_id if isinstance(message_id, str) and message_id else message_ref


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """`{"requestError": {"serviceException": {"messageId": ..., "text": ...}}}`."""
    request_error = body.get("requestError") if isinstance(body, dict) else None
    exc = request_error.get("serviceException") if isinstance(request_error, dict) else None
    if not isinstance(exc, dict):
        return None, None
    code, text = exc.get("messageId"), exc.get("text")
    return (code if isinstance(code, str) else None, text if isinstance(text, str) else None)


def parse_infobip_webhook(body: Any) -> list[DeliveryEvent]:
    """Normalise an Infobip delivery report: `{"results": [...]}` or a list of those.

    All-or-nothing: one report of an unknown shape or status group rejects the whole
    body with `WebhookPayloadInvalid`.
    """
    envelopes = body if isinstance(body, list) else [body]
    return [_event(result) for envelope in envelopes for result in _results(envelope)]


def _results(envelope: Any) -> list[Any]:
    results = envelope.get("results") if isinstance(envelope, dict) else None
    if not isinstance(results, list):
        raise WebhookPayloadInvalid("infobip report has no 'results' list")
    return results


def _event(result: Any) -> DeliveryEvent:
    if not isinstance(result, dict):
        raise WebhookPayloadInvalid("infobip result is not an object")
    message_id = required_str(result, "messageId")
    status = result.get("status")
    if not isinstance(status, dict):
        raise WebhookPayloadInvalid("infobip result has no 'status' object")
    group = required_str(status, "groupName")
    name = required_str(status, "name")
    normalised = GROUP_STATUS.get(group)
    if normalised is None:
        raise WebhookPayloadInvalid(f"unknown infobip status group {group!r}")
    done_at = optional_str(result, "doneAt")
    return DeliveryEvent(
        provider=PROVIDER,
        event_id=event_digest(message_id, group, name, done_at),
        provider_message_id=message_id,
        status=normalised,
        occurred_at=parse_time(done_at) if done_at is not None else None,
        recipient=optional_str(result, "to"),
        reason=_error_reason(result.get("error")),
        provider_code=name,
    )


def _error_reason(error: Any) -> str | None:
    """The error's name, unless absent or Infobip's `id: 0` ("NO_ERROR")."""
    if error is None:
        return None
    if not isinstance(error, dict):
        raise WebhookPayloadInvalid("infobip 'error' is not an object")
    if error.get("id") == 0:
        return None
    return optional_str(error, "name")
