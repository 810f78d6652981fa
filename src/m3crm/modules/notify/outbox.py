"""Reading the outbox, and requeueing dead letters (spec §2.7, §14.10)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.errors import InvalidTransition, NotFound
from m3crm.kernel.pagination import Page, PageRequest
from m3crm.modules.notify import repository
from m3crm.modules.notify.models import Channel, MessageStatus, OutboxMessage

WAKE_CHANNEL = "m3crm_outbox"


_WAKE = text("SELECT pg_notify(:channel, '')")


async def wake_pump(session: AsyncSession) -> None:
    """Wake delivery pumps when this transaction commits (NOTIFY is transactional)."""
    await session.execute(_WAKE, {"channel": WAKE_CHANNEL})


async def list_messages(
    session: AsyncSession,
    page: PageRequest,
    *,
    status: MessageStatus | None = None,
    channel: Channel | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    dispatch_group_id: UUID | None = None,
) -> Page[OutboxMessage]:
    return await repository.messages_page(
        session,
        page,
        status=status,
        channel=channel,
        since=since,
        until=until,
        dispatch_group_id=dispatch_group_id,
    )


async def get_message(session: AsyncSession, message_id: UUID) -> OutboxMessage:
    message = await repository.message_by_id(session, message_id)
    if message is None:
        raise NotFound()
    return message


async def requeue(session: AsyncSession, actor: Actor, message_id: UUID) -> OutboxMessage:
    """A dead letter goes back to the queue with a fresh attempt budget; nothing else
    may be requeued (a sent message would be sent twice)."""
    message = await get_message(session, message_id)
    if message.status is not MessageStatus.FAILED or message.channel is Channel.INBOX:
        raise InvalidTransition("message", message.status.value, MessageStatus.QUEUED.value)
    if message.error_code in ("TEMPLATE_MISSING", "TEMPLATE_VARIABLES_MISSING"):
        raise InvalidTransition("message", message.status.value, MessageStatus.QUEUED.value)
    before = {"status": message.status.value, "error_code": message.error_code}
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.error_code = None
    message.error_detail = None
    message.failed_at = None
    message.claimed_until = None
    message.scheduled_at = datetime.now(UTC)
    await session.flush()
    await wake_pump(session)
    await audit.record(
        session,
        actor,
        "message.requeued",
        EntityRef("message", message.id),
        before=before,
        after={"status": message.status.value, "error_code": None},
    )
    return message
