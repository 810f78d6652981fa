"""Dispatching and managing OperationRuns (`runs.dispatch` is how any module queues work)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import procrastinate
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.auth import AuthSubject, entitlements_of
from m3crm.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import Page, PageRequest
from m3crm.kernel.runs.models import OperationRun, RunStatus
from m3crm.kernel.runs.queue import defer_run_job
from m3crm.kernel.runs.registry import get_handler
from m3crm.kernel.runs.repository import OperationRunRepository
from m3crm.kernel.runs.transitions import transition

log = structlog.get_logger(__name__)


class RunService:
    async def dispatch(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        job_app: procrastinate.App,
        type: str,
        payload: dict[str, Any],
        *,
        permission: str,
        dedupe_key: str | None = None,
    ) -> OperationRun:
        """Create the run and its job in the caller's transaction.

        Checks now what the worker re-checks later: the permission (403) and the plan
        feature the handler declares (402).

        Returns the already-active run when `dedupe_key` matches one. If enqueueing fails
        synchronously, the run is kept and marked `failed` at once (with the reason), so
        the person sees it and can requeue it.
        """
        handler = get_handler(type)
        if handler is None:
            raise ValidationFailed({"type": N_("There is no such kind of background work.")})
        if permission != handler.permission:
            raise ValueError(f"run {type!r} needs {handler.permission!r}, not {permission!r}")
        if not subject.can(permission):
            raise PermissionDenied(details={"permission": permission})
        if handler.feature is not None:
            (await entitlements_of(session, subject)).require_feature(handler.feature)
        repo = OperationRunRepository(session, subject.tenant_id)
        if dedupe_key is not None:
            existing = await repo.find_active_duplicate(type, dedupe_key)
            if existing is not None:
                return existing
        run = repo.add(
            OperationRun(
                type=type,
                status=RunStatus.QUEUED,
                permission=permission,
                initiator_user_id=subject.user_id,
                payload=payload,
                dedupe_key=dedupe_key,
                counts={},
            )
        )
        await session.flush()
        await self._enqueue(session, subject, job_app, run)
        await audit.record(
            session,
            subject,
            "run.dispatched",
            audit.EntityRef("operation_run", run.id),
            after={"type": type, "status": run.status.value},
        )
        return run

    async def requeue(
        self, session: AsyncSession, subject: AuthSubject, job_app: procrastinate.App, run_id: UUID
    ) -> OperationRun:
        """Put a failed run (a dead letter) back in the queue; other states answer 409."""
        repo = OperationRunRepository(session, subject.tenant_id)
        run = await repo.get_for_update(run_id)
        if run is None:
            raise NotFound()
        before = {"status": run.status.value}
        transition(run, RunStatus.QUEUED)
        run.reason = None
        run.finished_at = None
        await session.flush()
        await self._enqueue(session, subject, job_app, run)
        await audit.record(
            session,
            subject,
            "run.requeued",
            audit.EntityRef("operation_run", run.id),
            before=before,
            after={"status": run.status.value},
        )
        return run

    async def get(self, session: AsyncSession, subject: AuthSubject, run_id: UUID) -> OperationRun:
        return await OperationRunRepository(session, subject.tenant_id).get_or_404(run_id)

    async def list(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        page: PageRequest,
        *,
        status: RunStatus | None = None,
        type: str | None = None,
        initiator_user_id: UUID | None = None,
    ) -> Page[OperationRun]:
        return await OperationRunRepository(session, subject.tenant_id).list_page(
            page, status=status, type=type, initiator_user_id=initiator_user_id
        )

    async def _enqueue(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        job_app: procrastinate.App,
        run: OperationRun,
    ) -> None:
        try:
            async with session.begin_nested():
                run.job_id = await defer_run_job(
                    job_app, session, run_id=run.id, tenant_id=subject.tenant_id
                )
        except Exception as exc:  # any enqueue failure must leave a visible failed run
            log.error("run.enqueue_failed", run_id=str(run.id), error=str(exc))
            transition(run, RunStatus.FAILED)
            run.reason = f"could not be queued: {type(exc).__name__}: {exc}"[:2000]
            run.finished_at = datetime.now(UTC)
            await session.flush()


run = RunService()
