"""The delivery pump (spec §2.5): the outbox is the queue, this drains it.

Loop: ask which tenants have messages due (a SECURITY DEFINER lookup returning ids
only), then per tenant, inside a transaction bound to it: claim a batch (`FOR UPDATE
SKIP LOCKED`, `claimed_until = now() + lease`, `attempts + 1`) and commit; send the
batch concurrently; record every outcome in one transaction. New dispatches wake the
loop through `LISTEN m3crm_outbox`; scheduled messages are found by polling.

Invariants:
- A message is sent only by the pump holding its claim; several pumps (processes) can
  run at once and never claim the same row.
- A pump killed after claiming loses nothing: the claim lapses and the row is claimed
  again. The outbox id travels to the provider as its idempotency key / client message
  id, so a send repeated after such a crash is recognisable as the same message.
- `attempts` counts provider calls; a retryable failure is retried after 1, 5, 15
  minutes (± 20 % jitter) and a message failing its third attempt is dead-lettered
  (`failed` + `error_code`), as is any non-retryable failure at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import procrastinate
import psycopg
import structlog
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.definers import OUTBOX_DUE_TENANTS, OUTBOX_QUEUE_DEPTH
from m3crm.kernel.db.session import Database
from m3crm.kernel.ids import TenantId
from m3crm.kernel.runs.queue import defer_in_transaction
from m3crm.modules.notify import repository
from m3crm.modules.notify.inbox import write_entry
from m3crm.modules.notify.metrics import FAILURES, QUEUE_DEPTH, SEND_LATENCY, SENT
from m3crm.modules.notify.models import (
    Channel,
    MessageStatus,
    OutboxMessage,
)
from m3crm.modules.notify.outbox import WAKE_CHANNEL
from m3crm.modules.notify.providers import devstub
from m3crm.modules.notify.providers.base import (
    OutboundEmail,
    OutboundText,
    ProviderError,
    SendResult,
)
from m3crm.modules.notify.providers.registry import ProviderFactory, ProviderSet
from m3crm.settings import Settings

log = structlog.get_logger(__name__)

SIMULATE_DELIVERY_TASK = "notify.simulate_delivery"


@dataclass(frozen=True, slots=True)
class Outcome:
    message: OutboxMessage
    result: SendResult | None = None
    error: ProviderError | None = None


def is_final_failure(attempts: int, retryable: bool, minutes: list[float]) -> bool:
    """Whether a failed send dead-letters its message. `attempts` counts sends made
    (the first included); each entry of the retry schedule is one retry, so a retryable
    failure is retried once per entry (1, 5, 15 minutes: three retries, four sends)
    and the failure of the last retry is final (docs/decisions.md)."""
    return not retryable or attempts > len(minutes)


def retry_delay(attempts: int, minutes: list[float]) -> timedelta:
    """Delay before attempt `attempts + 1`: the schedule's entry, ± 20 % jitter."""
    base = minutes[min(attempts, len(minutes)) - 1] * 60
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 (jitter)


class DeliveryPump:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        providers: ProviderFactory,
        job_app: procrastinate.App | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.providers = providers
        self.job_app = job_app
        self._wake = asyncio.Event()

    async def run_forever(self) -> None:
        """Deliver until cancelled, waking on new dispatches or every poll interval."""
        listener = asyncio.create_task(self._listen())
        try:
            while True:
                delivered = await self.run_once()
                if delivered:
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.notify_poll_seconds)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def run_once(self) -> int:
        """One pass over every tenant with due messages; the number handled."""
        async with self.database.transaction() as session:
            tenants = [
                TenantId(t)
                for t in (
                    await session.execute(
                        text(f"SELECT * FROM {OUTBOX_DUE_TENANTS.name}(:n)"), {"n": 1000}
                    )
                ).scalars()
            ]
            depth = (
                await session.execute(text(f"SELECT {OUTBOX_QUEUE_DEPTH.name}()"))
            ).scalar_one()
            QUEUE_DEPTH.set(int(depth))
        handled = 0
        for tenant_id in tenants:
            handled += await self.drain(tenant_id)
        return handled

    async def drain(self, tenant_id: TenantId) -> int:
        """Send the tenant's due messages, batch after batch; the adapters (and so the
        tenant's credentials) are looked up once per drain, not per batch."""
        async with self.database.transaction(tenant_id) as session:
            providers = await self.providers.for_tenant(session)
        handled = 0
        while True:
            batch = await self.claim(tenant_id)
            if not batch:
                return handled
            await self.deliver(tenant_id, batch, providers)
            handled += len(batch)

    async def claim(self, tenant_id: TenantId) -> list[OutboxMessage]:
        lease = timedelta(seconds=self.settings.notify_claim_seconds)
        async with self.database.transaction(tenant_id) as session:
            return await repository.claim_due(
                session, tenant_id, limit=self.settings.notify_batch_size, lease=lease
            )

    async def deliver(
        self, tenant_id: TenantId, batch: list[OutboxMessage], providers: ProviderSet
    ) -> None:
        limit = asyncio.Semaphore(self.settings.notify_send_concurrency)

        async def one(message: OutboxMessage) -> Outcome:
            if message.channel is Channel.INBOX:
                return Outcome(message)
            async with limit:
                return await send(providers, message)

        outcomes = await asyncio.gather(*(one(m) for m in batch))
        await self.record(tenant_id, outcomes)

    async def record(self, tenant_id: TenantId, outcomes: list[Outcome]) -> None:
        now = datetime.now(UTC)
        devstub_ids: list[str] = []
        changes: list[dict[str, Any]] = []
        async with self.database.transaction(tenant_id) as session:
            for outcome in outcomes:
                message = outcome.message
                if message.channel is Channel.INBOX:
                    await write_entry(session, message)
                    continue
                values, action = self._outcome_values(outcome, now)
                changes.append({"tenant_id": tenant_id, "id": message.id, **values})
                session.add(_event(message, action, values))
                if outcome.result and outcome.result.provider == devstub.NAME:
                    devstub_ids.append(outcome.result.provider_message_id)
            if changes:
                # ORM bulk UPDATE by primary key: one executemany for the whole batch.
                await session.execute(update(OutboxMessage), changes)
            if devstub_ids and self.job_app is not None:
                await schedule_simulated_delivery(
                    self.job_app, session, tenant_id, devstub_ids,
                    self.settings.notify_devstub_delivery_seconds,
                )  # fmt: skip

    def _outcome_values(self, outcome: Outcome, now: datetime) -> tuple[dict[str, Any], str]:
        message = outcome.message
        channel = message.channel.value
        if outcome.result is not None:
            SENT.labels(channel=channel, provider=outcome.result.provider).inc()
            SEND_LATENCY.labels(channel=channel).observe(
                max(0.0, (now - message.scheduled_at).total_seconds())
            )
            return {
                "status": MessageStatus.SENT,
                "provider": outcome.result.provider,
                "provider_message_id": outcome.result.provider_message_id,
                "sent_at": now,
                "claimed_until": None,
                "error_code": None,
                "error_detail": None,
            }, "message.sent"
        error = outcome.error
        assert error is not None
        final = is_final_failure(
            message.attempts, error.retryable, self.settings.notify_retry_minutes
        )
        FAILURES.labels(channel=channel, error_code=error.code, final=str(final).lower()).inc()
        common = {
            "error_code": error.code,
            "error_detail": f"{error.provider}: {error.provider_code or ''} {error.message}"[:500],
            "claimed_until": None,
        }
        if final:
            return {**common, "status": MessageStatus.FAILED, "failed_at": now}, "message.failed"
        delay = retry_delay(message.attempts, self.settings.notify_retry_minutes)
        return {**common, "scheduled_at": now + delay}, "message.retry_scheduled"

    async def _listen(self) -> None:
        """Set the wake event on every `NOTIFY m3crm_outbox` (reconnecting on loss)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database.urls.app_libpq, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {WAKE_CHANNEL}")
                    async for _ in conn.notifies():
                        self._wake.set()
            except psycopg.OperationalError:
                log.warning("notify.listen_lost")
                await asyncio.sleep(1.0)


async def send(providers: ProviderSet, message: OutboxMessage) -> Outcome:
    """One provider call; every failure comes back as a `ProviderError` outcome."""
    content = message.content
    ref = str(message.id)
    try:
        if message.channel is Channel.EMAIL:
            result = await providers.email.send(
                OutboundEmail(
                    message_ref=ref,
                    to=message.to_address,
                    subject=content.get("subject") or "",
                    html=content.get("html") or "",
                    text=content.get("text") or "",
                    tags=(message.type.value, message.family or ""),
                )
            )
        else:
            outbound = OutboundText(
                message_ref=ref,
                to_e164=message.to_address,
                body=content.get("text") or "",
                callback_data=f"tenant={message.tenant_id}",
            )
            provider = providers.sms if message.channel is Channel.SMS else providers.whatsapp
            result = await provider.send_text(outbound)
    except ProviderError as error:
        return Outcome(message, error=error)
    return Outcome(message, result=result)


def _event(message: OutboxMessage, action: str, values: dict[str, Any]) -> AuditLog:
    """The `message.*` event of an outcome (system actor; no body, no address)."""
    return AuditLog(
        tenant_id=message.tenant_id,
        actor_user_id=None,
        action=action,
        entity_type="message",
        entity_id=str(message.id),
        after_data={
            "channel": message.channel.value,
            "attempt": message.attempts,
            "status": str(values.get("status", MessageStatus.QUEUED)),
            "provider": values.get("provider"),
            "error_code": values.get("error_code"),
        },
    )


async def schedule_simulated_delivery(
    job_app: procrastinate.App,
    session: AsyncSession,
    tenant_id: UUID,
    provider_message_ids: list[str],
    delay_seconds: float,
) -> None:
    """Defer the DevStub's simulated delivery report, in the recording transaction."""
    await defer_in_transaction(
        job_app,
        session,
        SIMULATE_DELIVERY_TASK,
        {"tenant_id": str(tenant_id), "provider_message_ids": list(provider_message_ids)},
        schedule_in={"seconds": max(0, int(delay_seconds))},
    )
