"""The in-app inbox (spec §2.7): the native provider's writer, and the reader's queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.errors import NotFound
from m3crm.kernel.pagination import Page, PageRequest
from m3crm.modules.notify import repository, retention
from m3crm.modules.notify.models import (
    InboxCategory,
    InboxEntry,
    MessageStatus,
    OutboxMessage,
    Severity,
)


def inbox_content(
    content: dict[str, Any], *, link_url: str | None, category: InboxCategory, severity: Severity
) -> dict[str, Any]:
    """An inbox row's content carries what its entry needs when written later."""
    return {**content, "link_url": link_url, "category": category.value, "severity": severity.value}


async def write_entry(session: AsyncSession, row: OutboxMessage) -> InboxEntry:
    """Write the inbox entry of an inbox-channel outbox row and mark the row delivered;
    the tenant's retention chain is started if it has none (`retention`)."""
    assert row.recipient_user_id is not None
    now = datetime.now(UTC)
    content = row.content
    entry = InboxEntry(
        tenant_id=row.tenant_id,
        recipient_user_id=row.recipient_user_id,
        title=(content.get("subject") or row.family or "")[:200],
        body=content.get("text") or "",
        severity=Severity(content.get("severity") or Severity.INFO),
        category=InboxCategory(content.get("category") or InboxCategory.SYSTEM),
        link_url=content.get("link_url"),
        meta={
            "auto_generated": bool(content.get("auto_generated")),
            "family": row.family,
            "type": row.type.value,
        },
        dispatch_group_id=row.dispatch_group_id,
        outbox_message_id=row.id,
    )
    session.add(entry)
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.tenant_id == row.tenant_id, OutboxMessage.id == row.id)
        .values(status=MessageStatus.DELIVERED, sent_at=now, delivered_at=now, provider="inbox")
    )
    row.status = MessageStatus.DELIVERED
    await session.flush()
    await retention.ensure_archiving(session, row.tenant_id)
    return entry


async def list_entries(
    session: AsyncSession,
    user_id: UUID,
    page: PageRequest,
    *,
    is_read: bool | None = None,
    since: datetime | None = None,
    category: InboxCategory | None = None,
) -> Page[InboxEntry]:
    """Newest first, seek-paginated by id (UUIDv7 ids are time-ordered)."""
    return await repository.inbox_page(
        session, user_id, page, is_read=is_read, since=since, category=category
    )


async def unread_count(session: AsyncSession, user_id: UUID) -> int:
    return await repository.unread_count(session, user_id)


async def mark_read(session: AsyncSession, user_id: UUID, entry_id: UUID) -> InboxEntry:
    entry = await repository.inbox_entry(session, user_id, entry_id)
    if entry is None:
        raise NotFound()
    if not entry.is_read:
        entry.is_read = True
        entry.read_at = datetime.now(UTC)
        await session.flush()
    return entry


async def mark_all_read(
    session: AsyncSession,
    user_id: UUID,
    ids: list[UUID] | None,
    category: InboxCategory | None = None,
) -> int:
    """Mark the given entries (or all unread ones, of `category` when given) read; the
    number changed."""
    return await repository.mark_unread_read(
        session, user_id, ids, datetime.now(UTC), category=category
    )


async def entry_with_channels(
    session: AsyncSession, user_id: UUID, entry_id: UUID
) -> tuple[InboxEntry, list[OutboxMessage]]:
    """One of the user's entries and the messages it was sent with: the other channels
    of its dispatch group (SMS or WhatsApp with their e-mail mirror, say) addressed to
    this user. 404 when the entry is not theirs."""
    entry = await repository.inbox_entry(session, user_id, entry_id)
    if entry is None:
        raise NotFound()
    if entry.dispatch_group_id is None:
        return entry, []
    return entry, await repository.group_messages(session, entry.dispatch_group_id, user_id)
