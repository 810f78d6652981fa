"""Ingesting provider delivery reports (spec §2.5.3, Appendix A §1.3, §2.3).

A webhook carries no tenant. Each event's tenant is found from the provider message
id by a SECURITY DEFINER lookup; the event is then handled in a transaction bound to
that tenant. Every event is stored raw first (`integration_webhook_logs`, unique on
`(provider, event_id)`): a re-delivered event finds its row and changes nothing.

Status changes follow `APPLIES`: a report never moves a message backwards (a late
"delivered" after a bounce is recorded, not applied). Bounces and complaints put the
address on the suppression list; a failed SMS with a STOP reason puts the number on
the STOP list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.definers import OUTBOX_TENANT_BY_PROVIDER_ID
from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.ids import TenantId, new_id
from m3crm.modules.notify import consent, repository
from m3crm.modules.notify.metrics import DELIVERY_EVENTS
from m3crm.modules.notify.models import (
    Channel,
    MessageStatus,
    OutboxMessage,
    SuppressionReason,
    WebhookLog,
)
from m3crm.modules.notify.providers.base import DeliveryEvent, DeliveryStatus

APPLIES: dict[DeliveryStatus, tuple[frozenset[MessageStatus], MessageStatus | None]] = {
    DeliveryStatus.DELIVERED: (
        frozenset({MessageStatus.QUEUED, MessageStatus.SENT}),
        MessageStatus.DELIVERED,
    ),
    DeliveryStatus.FAILED: (
        frozenset({MessageStatus.QUEUED, MessageStatus.SENT}),
        MessageStatus.FAILED,
    ),
    DeliveryStatus.BOUNCED: (
        frozenset({MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED}),
        MessageStatus.BOUNCED,
    ),
}
"""Report → (statuses it may move a message from, status it moves it to)."""

_REDACTED_HEADERS = frozenset({"authorization", "cookie", "x-webhook-secret"})


@dataclass(slots=True)
class IngestSummary:
    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0
    recorded: list[str] = field(default_factory=list)


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("<redacted>" if k.lower() in _REDACTED_HEADERS else v) for k, v in headers.items()}


async def tenant_of(session: AsyncSession, provider: str, provider_message_id: str) -> UUID | None:
    found = await session.execute(
        text(f"SELECT {OUTBOX_TENANT_BY_PROVIDER_ID.name}(:provider, :message_id)"),
        {"provider": provider, "message_id": provider_message_id},
    )
    value: UUID | None = found.scalar_one()
    return value


async def ingest(
    database: Database,
    provider: str,
    events: list[DeliveryEvent],
    *,
    headers: Mapping[str, str],
    payload: Any,
) -> IngestSummary:
    """Store and apply each event in its own transaction (one bad tenant cannot block
    the others' reports)."""
    summary = IngestSummary()
    for event in events:
        async with database.transaction() as session:
            tenant_id = await tenant_of(session, provider, event.provider_message_id)
            if tenant_id is not None:
                await bind_tenant(session, tenant_id, None)
            stored = await _store(session, provider, event, tenant_id, headers, payload)
            if not stored:
                summary.duplicates += 1
                continue
            if tenant_id is None:
                summary.unmatched += 1
                continue
            if await apply(session, TenantId(tenant_id), provider, event):
                summary.applied += 1
    return summary


async def store_invalid(
    database: Database, provider: str, event_id: str, headers: Mapping[str, str], payload: Any
) -> None:
    """Keep the raw body of a payload we could not read (no tenant: operator-only)."""
    async with database.transaction() as session:
        await _insert_log(
            session,
            tenant_id=None,
            provider=provider,
            event_id=event_id,
            outcome="invalid",
            headers=safe_headers(headers),
            payload=payload,
        )


async def _insert_log(session: AsyncSession, **values: Any) -> bool:
    """Insert a receipt; False when its `(provider, event_id)` is already stored.

    A plain INSERT in a savepoint: rows without a tenant are invisible to the app role,
    so neither RETURNING nor ON CONFLICT (both need to read the row) may be used.
    """
    try:
        async with session.begin_nested():
            await session.execute(insert(WebhookLog).values(id=new_id(), **values))
    except IntegrityError:
        return False
    return True


async def _store(
    session: AsyncSession,
    provider: str,
    event: DeliveryEvent,
    tenant_id: UUID | None,
    headers: Mapping[str, str],
    payload: Any,
) -> bool:
    return await _insert_log(
        session,
        tenant_id=tenant_id,
        provider=provider,
        event_id=event.event_id,
        provider_message_id=event.provider_message_id,
        outcome=event.status.value if tenant_id else "unmatched",
        headers=safe_headers(headers),
        payload=payload,
    )


async def apply(
    session: AsyncSession, tenant_id: TenantId, provider: str, event: DeliveryEvent
) -> bool:
    """Apply one report to its message; True when the message's status changed."""
    message = await repository.message_by_provider_id(session, provider, event.provider_message_id)
    if message is None:
        return False
    DELIVERY_EVENTS.labels(provider=provider, status=event.status.value).inc()
    now = event.occurred_at or datetime.now(UTC)
    await _suppress(session, tenant_id, message, event)
    if event.status in (DeliveryStatus.OPENED, DeliveryStatus.CLICKED):
        message.opened_at = message.opened_at or now
        return False
    rule = APPLIES.get(event.status)
    if rule is None or message.status not in rule[0] or rule[1] is None:
        return False
    target = rule[1]
    before = message.status
    message.status = target
    if target is MessageStatus.DELIVERED:
        message.delivered_at = now
    else:
        message.failed_at = now
        message.error_code = (event.provider_code or event.status.value.upper())[:60]
        message.error_detail = event.reason
    session.add(
        AuditLog(
            tenant_id=tenant_id,
            actor_user_id=None,
            action=f"message.{target.value}",
            entity_type="message",
            entity_id=str(message.id),
            before_data={"status": before.value},
            after_data={"status": target.value, "provider": provider, "reason": event.reason},
        )
    )
    await session.flush()
    return True


async def _suppress(
    session: AsyncSession, tenant_id: TenantId, message: OutboxMessage, event: DeliveryEvent
) -> None:
    if message.channel is Channel.EMAIL and event.status in (
        DeliveryStatus.BOUNCED,
        DeliveryStatus.COMPLAINED,
    ):
        reason = (
            SuppressionReason.BOUNCE
            if event.status is DeliveryStatus.BOUNCED
            else SuppressionReason.COMPLAINT
        )
        await consent.suppress(session, tenant_id, Channel.EMAIL, message.to_address, reason)
    stop_reported = "STOP" in (event.reason or "").upper()
    if message.channel is Channel.SMS and stop_reported:
        await consent.add_stop(session, tenant_id, message.to_address, "provider")
