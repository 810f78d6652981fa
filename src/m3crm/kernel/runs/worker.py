"""The worker wrapper: every run re-proves its right to execute before it does.

For each job: reload the run in its tenant; re-check tenant active, initiator active,
permission (and plan feature) still granted; refuse with `denied` (reason stored and
audited) or mark `running`, execute the handler in a transaction that also marks the run
`succeeded`, and on error either hand the job back to procrastinate for a retry with
backoff or, on the last attempt, mark the run `failed` (a dead letter a person can
requeue). A worker killed mid-run leaves the job `doing`; stalled-job recovery requeues
it, and since the handler's writes commit only with the success mark, nothing is doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import procrastinate
import structlog
from procrastinate.job_context import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.auth import AuthSubject, entitlements_of, load_subject
from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.errors import DomainError
from m3crm.kernel.ids import TenantId
from m3crm.kernel.runs import queue
from m3crm.kernel.runs.context import RunContext
from m3crm.kernel.runs.hooks import run_finished
from m3crm.kernel.runs.models import TERMINAL, OperationRun, RunStatus
from m3crm.kernel.runs.registry import RunHandler, get_handler
from m3crm.kernel.runs.repository import OperationRunRepository
from m3crm.kernel.runs.transitions import transition

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Runtime:
    database: Database | None = None


runtime = _Runtime()


def configure_worker_runtime(database: Database) -> None:
    """Give the task functions their database (once per worker process)."""
    runtime.database = database


def worker_database() -> Database:
    """The database of this worker process (for task functions of any module)."""
    if runtime.database is None:
        raise RuntimeError("worker runtime not configured")
    return runtime.database


async def _refusal(
    session: AsyncSession, run: OperationRun, handler: RunHandler | None
) -> tuple[str | None, AuthSubject | None]:
    if handler is None:
        return f"no handler for run type {run.type!r}", None
    subject = await load_subject(session, run.tenant_id, run.initiator_user_id)
    if subject is None:
        return "the tenant or the initiating user is no longer active", None
    if not subject.can(run.permission):
        return f"the initiating user no longer holds {run.permission!r}", subject
    if handler.feature:
        entitlements = await entitlements_of(session, subject)
        if handler.feature not in entitlements.features:
            return (
                f"the initiating user's entitlements no longer include {handler.feature!r}",
                subject,
            )
    return None, subject


async def _claim(
    tenant_id: TenantId, run_id: UUID, attempts: int
) -> tuple[OperationRun, RunHandler, AuthSubject] | None:
    """Lock the run and re-check its rights; `None` when it must not execute."""
    async with worker_database().transaction(tenant_id) as session:
        run = await OperationRunRepository(session, tenant_id).get_for_update(run_id)
        if run is None or run.status in TERMINAL:
            return None
        handler = get_handler(run.type)
        reason, subject = await _refusal(session, run, handler)
        await bind_tenant(session, tenant_id, run.initiator_user_id)
        if reason is not None or handler is None or subject is None:
            transition(run, RunStatus.DENIED)
            run.reason = reason
            run.finished_at = datetime.now(UTC)
            actor = audit.SystemActor(tenant_id, run.initiator_user_id)
            await audit.record(
                session,
                actor,
                "run.denied",
                audit.EntityRef("operation_run", run.id),
                after={"reason": reason, "type": run.type},
            )
            await run_finished(session, run)
            log.warning("run.denied", run_id=str(run_id), reason=reason)
            return None
        transition(run, RunStatus.RUNNING)
        run.attempts = attempts + 1
        run.started_at = run.started_at or datetime.now(UTC)
        run.reason = None
        return run, handler, subject


async def _finish_failed(
    tenant_id: TenantId, run_id: UUID, exc: BaseException, *, final: bool
) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    async with worker_database().transaction(tenant_id) as session:
        run = await OperationRunRepository(session, tenant_id).get_for_update(run_id)
        if run is None or run.status in TERMINAL:
            return
        run.reason = reason
        if final:
            transition(run, RunStatus.FAILED)
            run.finished_at = datetime.now(UTC)
            await audit.record(
                session,
                audit.SystemActor(tenant_id, run.initiator_user_id),
                "run.failed",
                audit.EntityRef("operation_run", run.id),
                after={"reason": reason, "type": run.type, "attempts": run.attempts},
            )
            await run_finished(session, run)
        else:
            transition(run, RunStatus.QUEUED)


async def execute_run(context: JobContext, run_id: str, tenant_id: str) -> None:
    """The one procrastinate task behind every OperationRun."""
    tid, rid = TenantId(UUID(tenant_id)), UUID(run_id)
    attempts = context.job.attempts
    claimed = await _claim(tid, rid, attempts)
    if claimed is None:
        return
    run, handler, subject = claimed
    db = worker_database()
    structlog.contextvars.bind_contextvars(
        tenant_id=tenant_id, user_id=str(subject.user_id), run_id=run_id
    )
    try:
        async with db.transaction(tid, subject.user_id) as session:
            ctx = RunContext(
                session=session, subject=subject, run_id=rid, payload=run.payload, database=db
            )
            result = await handler.fn(ctx)
            locked = await OperationRunRepository(session, tid).get_for_update(rid)
            if locked is None:
                return
            transition(locked, RunStatus.SUCCEEDED)
            locked.result = result
            locked.finished_at = datetime.now(UTC)
            await audit.record(
                session,
                subject,
                "run.succeeded",
                audit.EntityRef("operation_run", rid),
                after={"type": run.type, "attempts": locked.attempts},
            )
            await run_finished(session, locked)
    except Exception as exc:
        final = isinstance(exc, DomainError) or queue.retry_policy.is_final(attempts)
        await _finish_failed(tid, rid, exc, final=final)
        log.warning("run.error", run_id=run_id, final=final, error=str(exc))
        if not isinstance(exc, DomainError):
            raise
    finally:
        structlog.contextvars.unbind_contextvars("tenant_id", "user_id", "run_id")


async def requeue_stalled(job_app: procrastinate.App, stalled_seconds: float) -> int:
    """Requeue jobs whose worker stopped sending heartbeats (crashed or killed)."""
    stalled = list(
        await job_app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    )
    for job in stalled:
        await job_app.job_manager.retry_job(job)
        log.warning("job.stalled_requeued", job_id=job.id, task=job.task_name)
    return len(stalled)


queue.blueprint.task(
    name=queue.RUN_TASK, pass_context=True, queue=queue.QUEUE, retry=queue.retry_policy
)(execute_run)
