"""Verifying a contact's e-mail address, phone or WhatsApp number with a code (Section 3
§4, reusing the notifications core of Section 2 for delivery): the code goes to the
channel itself and the contact reads it back to the agent, who confirms it.

Rules:
- a verified channel answers 409 `INVALID_TRANSITION`;
- the code (6 digits) goes through `Notifier.dispatch` on the channel's own medium
  (family `otp.verify_phone` for phone and WhatsApp, `contact.verify_email` for e-mail),
  so plan features (402), monthly caps, STOP and throttles apply as for every message;
- it is stored only as an HMAC keyed with the channel id, valid 10 minutes; a new code
  at most once a minute (429); 5 wrong codes in all end the attempt;
- refusals that change state (`CodeRefused`: a counted wrong attempt) are raised after
  the change is flushed: callers MUST answer them without rolling back;
- success sets `verified_at` and is audited `contact.channel.verified` (Section 3 §10).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    RateLimited,
)
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.channels import CONSENT_CHANNEL, channels
from m3crm.modules.contacts.models import ChannelType, Contact, ContactChannel
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier

CODE_TTL = timedelta(minutes=10)
RESEND_INTERVAL = timedelta(minutes=1)
MAX_ATTEMPTS = 5
FAMILIES = {
    ChannelType.EMAIL: "contact.verify_email",
    ChannelType.PHONE: "otp.verify_phone",
    ChannelType.WHATSAPP: "otp.verify_phone",
}


class CodeRefused(DomainError):
    """Raised after a counted attempt was flushed: answer without rolling back."""

    status_code = 422


class WrongCode(CodeRefused):
    code = "AUTH_2FA_INVALID_CODE"
    default_message = N_("The code is not correct.")

    def __init__(self, attempts_left: int) -> None:
        super().__init__(details={"attempts_left": attempts_left})


class CodeExpired(CodeRefused):
    code = "OTP_EXPIRED"
    default_message = N_("The code has expired. Ask for a new one.")


class NoPendingCode(NotFound):
    default_message = N_("No code is waiting for this channel. Ask for a new one.")


def _digest(channel: ContactChannel, code: str) -> str:
    return hmac.new(channel.id.bytes, code.encode(), hashlib.sha256).hexdigest()


class VerificationService:
    async def start(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        notifier: Notifier,
        contact: Contact,
        channel_id: UUID,
    ) -> ContactChannel:
        """Callers MUST have fetched `contact` with `get_for_update`."""
        channel = await channels.get(session, subject, contact, channel_id)
        if channel.verified_at is not None:
            raise InvalidTransition("contact_channel", "verified", "pending")
        now = datetime.now(UTC)
        if channel.verification_sent_at and now < channel.verification_sent_at + RESEND_INTERVAL:
            wait = channel.verification_sent_at + RESEND_INTERVAL - now
            raise RateLimited(max(1, math.ceil(wait.total_seconds())))
        code = f"{secrets.randbelow(1_000_000):06d}"
        channel.verification_hash = _digest(channel, code)
        channel.verification_sent_at = now
        channel.verification_expires_at = now + CODE_TTL
        channel.verification_attempts = 0
        await session.flush()
        await notifier.dispatch(
            session,
            subject,
            DispatchRequest(
                channel=CONSENT_CHANNEL[channel.type],
                to=channel.normalized_value,
                family=FAMILIES[channel.type],
                payload=otp_payload(
                    code,
                    expires_min=int(CODE_TTL.total_seconds() // 60),
                    tenant_name=subject.tenant.name,
                ),
                correlation_key=f"contact-verify:{channel.id}:{now.isoformat()}",
                locale=channel.locale,
            ),
        )
        await record(
            session, subject, "contact.channel.verify_started", EntityRef("contact", contact.id),
            None, {"channel": channel.normalized_value},
        )  # fmt: skip
        return channel

    async def confirm(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        contact: Contact,
        channel_id: UUID,
        code: str,
    ) -> ContactChannel:
        channel = await channels.get(session, subject, contact, channel_id)
        if channel.verification_hash is None or channel.verification_expires_at is None:
            raise NoPendingCode()
        now = datetime.now(UTC)
        if channel.verification_expires_at <= now:
            channel.verification_hash = None
            await session.flush()
            raise CodeExpired()
        if not hmac.compare_digest(channel.verification_hash, _digest(channel, code)):
            channel.verification_attempts += 1
            left = MAX_ATTEMPTS - channel.verification_attempts
            if left <= 0:
                channel.verification_hash = None
            await session.flush()
            raise WrongCode(max(0, left))
        channel.verification_hash = None
        channel.verified_at = now
        await session.flush()
        await record(
            session, subject, "contact.channel.verified", EntityRef("contact", contact.id),
            None, {"channel": channel.normalized_value},
        )  # fmt: skip
        return channel


verification = VerificationService()
