"""Inbox retention (DECISIONS §2.5): entries are archived 180 days after they were written.

Archived entries are kept (hidden from every inbox list, count and mark-read); only the
retention policy of §18 may purge them.

Each tenant has one chain of `notify.archive_inbox` jobs, never a sweep over all
tenants: under the tenancy canon the application role cannot list tenants, and each
run works inside its own tenant's transaction. A run archives what has expired and
defers the next run for the moment the oldest remaining entry expires (or one
retention period ahead when none remains), so the chain never ends. Writing an inbox
entry starts the chain when the tenant has no queued run (first entry, or a chain broken
by a failed run); the per-tenant queueing lock keeps it to one queued run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.ids import TenantId
from m3crm.kernel.runs.queue import QUEUE, blueprint, build_job_app, defer_in_transaction
from m3crm.kernel.runs.worker import worker_database
from m3crm.kernel.tenancy.models import Tenant, TenantStatus
from m3crm.modules.notify import repository

INBOX_RETENTION = timedelta(days=180)
ARCHIVE_INBOX_TASK = "notify.archive_inbox"
INACTIVE_RECHECK = timedelta(days=1)


def archive_lock(tenant_id: UUID) -> str:
    return f"{ARCHIVE_INBOX_TASK}:{tenant_id}"


async def ensure_archiving(session: AsyncSession, tenant_id: UUID) -> None:
    """Start the tenant's archive chain unless a run is already queued (in the caller's
    transaction: a rolled-back write starts nothing)."""
    if await repository.job_pending(session, archive_lock(tenant_id)):
        return
    await _defer(session, tenant_id, at=None)


async def archive_expired(
    session: AsyncSession, tenant_id: TenantId, *, now: datetime
) -> dict[str, Any]:
    """One run of the chain, in a transaction bound to `tenant_id`: archive the entries
    older than the retention, then queue the next run. A tenant that no longer exists
    ends its chain; a suspended or closed one is checked again a day later."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return {"archived": 0, "next_run_at": None}
    archived = 0
    if tenant.status is TenantStatus.ACTIVE:
        archived = await repository.archive_inbox_before(
            session, tenant_id, cutoff=now - INBOX_RETENTION, now=now
        )
        oldest = await repository.oldest_unarchived_inbox(session, tenant_id)
        next_at = (oldest if oldest else now) + INBOX_RETENTION
    else:
        next_at = now + INACTIVE_RECHECK
    if archived:
        await audit.record(
            session,
            audit.SystemActor(tenant_id),
            "notification.inbox.archived",
            audit.EntityRef("notifications_inbox", None),
            after={"archived": archived, "retention_days": INBOX_RETENTION.days},
        )
    await _defer(session, tenant_id, at=next_at)
    return {"archived": archived, "next_run_at": next_at.isoformat()}


async def _defer(session: AsyncSession, tenant_id: UUID, *, at: datetime | None) -> None:
    """Queue a run on the session's connection. Another queued run already holding the
    lock is enough (it computes its own next run), so that refusal is swallowed inside
    a savepoint that keeps the caller's transaction usable."""
    options: dict[str, Any] = {"schedule_at": at} if at is not None else {}
    try:
        async with session.begin_nested():
            await defer_in_transaction(
                build_job_app(),
                session,
                ARCHIVE_INBOX_TASK,
                {"tenant_id": str(tenant_id)},
                queueing_lock=archive_lock(tenant_id),
                **options,
            )
    except AlreadyEnqueued:
        return


@blueprint.task(name=ARCHIVE_INBOX_TASK, queue=QUEUE)
async def archive_inbox(tenant_id: str) -> dict[str, Any]:
    """The queued run: `archive_expired` in the tenant's own transaction."""
    tid = TenantId(UUID(tenant_id))
    async with worker_database().transaction(tid) as session:
        return await archive_expired(session, tid, now=datetime.now(UTC))
