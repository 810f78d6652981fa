"""Consent (spec §2.9): opt-in/opt-out history, the SMS STOP list, suppressions.

Rules enforced at dispatch:
- a subject's consent on a channel is its most recent `channel_opt_ins` event, whoever
  recorded it (the opt-in/opt-out endpoints, or the user's own marketing switches, which
  append an event with source `preferences`); only a user with no event at all falls back
  to the stored switch;
- marketing e-mail and WhatsApp need that consent to be an opt-in;
- marketing SMS to a user needs it too (the "Marketing by SMS" switch); marketing SMS to
  a bare number, with no consent subject, is refused only by an opt-out or a STOP;
- a STOP also refuses transactional SMS unless the tenant policy
  `allow_transactional_over_stop` is on (default off);
- an e-mail address that bounced hard or complained is suppressed for marketing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.errors import DomainError
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId, new_id
from m3crm.modules.notify import repository
from m3crm.modules.notify.models import (
    Channel,
    ChannelConsent,
    ConsentAction,
    MessageType,
    SmsStop,
    SubjectType,
    Suppression,
    SuppressionReason,
)


class ConsentRequired(DomainError):
    status_code = 422
    code = "CONSENT_REQUIRED"
    default_message = N_("The recipient has not agreed to receive this kind of message.")

    def __init__(self, channel: Channel, reason: str) -> None:
        super().__init__(details={"channel": channel.value, "reason": reason})


@dataclass(frozen=True, slots=True)
class ConsentSubject:
    type: SubjectType
    id: UUID


async def check(
    session: AsyncSession,
    *,
    channel: Channel,
    address: str,
    type: MessageType,
    subject: ConsentSubject | None,
    marketing_preference: bool | None,
    allow_transactional_over_stop: bool,
) -> None:
    """Raise `ConsentRequired` when the message may not go to `address`."""
    stop_binds = type is MessageType.MARKETING or not allow_transactional_over_stop
    if channel is Channel.SMS and stop_binds and await repository.is_stopped(session, address):
        raise ConsentRequired(channel, "stopped")
    if type is MessageType.TRANSACTIONAL or channel is Channel.INBOX:
        return
    if channel is Channel.EMAIL and await repository.is_suppressed(session, channel, address):
        raise ConsentRequired(channel, "suppressed")
    latest = (
        await repository.latest_consent(session, subject.type, subject.id, channel)
        if subject
        else None
    )
    if latest is ConsentAction.OPT_OUT:
        raise ConsentRequired(channel, "opted_out")
    opted_in = latest is ConsentAction.OPT_IN if latest else bool(marketing_preference)
    needs_opt_in = channel is not Channel.SMS or subject is not None
    if needs_opt_in and not opted_in:
        raise ConsentRequired(channel, "no_opt_in")


async def record_consent(
    session: AsyncSession,
    actor: Actor,
    *,
    subject: ConsentSubject,
    channel: Channel,
    action: ConsentAction,
    source: str,
    text: str | None,
) -> ChannelConsent:
    """Append a consent event (never updated: the history is the proof)."""
    row = ChannelConsent(
        tenant_id=actor.tenant_id,
        subject_type=subject.type,
        subject_id=subject.id,
        channel=channel,
        action=action,
        consent_source=source,
        consent_text=text,
        recorded_by_user_id=actor.user_id,
    )
    session.add(row)
    await session.flush()
    event = "contact.opted_out" if action is ConsentAction.OPT_OUT else "contact.opted_in"
    await audit.record(
        session,
        actor,
        event,
        EntityRef(subject.type.value, subject.id),
        after={"channel": channel.value, "source": source, "text": text},
    )
    return row


async def stopped_numbers(
    session: AsyncSession, tenant_id: TenantId, numbers: Sequence[str]
) -> set[str]:
    """The E.164 numbers among `numbers` that are on the tenant's STOP list (public:
    other modules show and respect STOP without reading notify's tables)."""
    return await repository.stopped_among(session, tenant_id, numbers)


async def add_stop(session: AsyncSession, tenant_id: TenantId, e164: str, source: str) -> bool:
    """Put a number on the STOP list; False when it already was."""
    stmt = (
        insert(SmsStop)
        .values(tenant_id=tenant_id, id=new_id(), e164_value=e164, source=source)
        .on_conflict_do_nothing(index_elements=["tenant_id", "e164_value"])
        .returning(SmsStop.id)
    )
    return (await session.execute(stmt)).first() is not None


async def suppress(
    session: AsyncSession,
    tenant_id: TenantId,
    channel: Channel,
    value: str,
    reason: SuppressionReason,
) -> bool:
    stmt = (
        insert(Suppression)
        .values(
            tenant_id=tenant_id, id=new_id(), channel=channel, normalized_value=value, reason=reason
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "channel", "normalized_value"])
        .returning(Suppression.id)
    )
    return (await session.execute(stmt)).first() is not None
