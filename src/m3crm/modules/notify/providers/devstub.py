"""DevStub SMS/WhatsApp: an explicit development transport, not an integration.

It sends nothing anywhere. It records the send (without the body: PII stays out of
logs) and answers with a provider id; the delivery pump then schedules a simulated
delivery report that goes through the same ingestion path as a real webhook.
"""

from __future__ import annotations

from collections import deque

import structlog

from m3crm.modules.notify.providers.base import OutboundText, SendResult

log = structlog.get_logger(__name__)

NAME = "devstub"


class DevStubTextProvider:
    name = NAME

    def __init__(self, channel: str, *, keep: int = 1000) -> None:
        self.channel = channel
        self.sent: deque[OutboundText] = deque(maxlen=keep)

    async def send_text(self, message: OutboundText) -> SendResult:
        self.sent.append(message)
        log.info(
            "notify.devstub.sent",
            channel=self.channel,
            to_suffix=message.to_e164[-4:],
            message_ref=message.message_ref,
            length=len(message.body),
        )
        return SendResult(provider=NAME, provider_message_id=f"devstub-{message.message_ref}")
