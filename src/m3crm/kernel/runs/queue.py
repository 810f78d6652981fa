"""The procrastinate queue under OperationRuns: task, retry policy, stalled recovery.

Jobs are deferred on the caller's own connection, inside its transaction (CONVENTIONS
rule 6): a rolled-back change leaves no job, a committed change never loses its job.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import procrastinate
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.ext.asyncio import AsyncSession

RUN_TASK = "kernel.execute_run"
QUEUE = "runs"


@dataclass(slots=True)
class RetryPolicy(BaseRetryStrategy):
    """Exponential backoff with full jitter, capped; `max_attempts` executions in all.

    `attempts` is the number of earlier executions of the job (procrastinate's count).
    """

    max_attempts: int = 5
    base_seconds: float = 2.0
    cap_seconds: float = 600.0

    def is_final(self, attempts: int) -> bool:
        return attempts + 1 >= self.max_attempts

    def delay_seconds(self, attempts: int) -> int:
        ceiling = min(self.cap_seconds, self.base_seconds * (2**attempts))
        jittered = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not security)
        return max(1, round(jittered))

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> RetryDecision | None:
        if self.is_final(job.attempts):
            return None
        return RetryDecision(retry_in={"seconds": self.delay_seconds(job.attempts)})


blueprint = procrastinate.Blueprint()
retry_policy = RetryPolicy()


def configure_retry(*, max_attempts: int, base_seconds: float, cap_seconds: float) -> None:
    """Tune the one retry policy (from settings) before the worker starts."""
    retry_policy.max_attempts = max_attempts
    retry_policy.base_seconds = base_seconds
    retry_policy.cap_seconds = cap_seconds


@lru_cache(maxsize=1)
def _base_app() -> procrastinate.App:
    """The one App holding our tasks (a blueprint's tasks can join one App only)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector())
    app.add_tasks_from(blueprint, namespace="m3crm")
    return app


def build_job_app(conninfo: str | None = None) -> procrastinate.App:
    """The procrastinate App carrying our tasks. `conninfo` is needed only by workers;
    deferring always uses the caller's connection. The tasks are defined in
    `kernel.runs.worker`, which the caller must have imported."""
    base = _base_app()
    if conninfo is None:
        return base
    return base.with_connector(procrastinate.PsycopgConnector(conninfo=conninfo))


async def defer_in_transaction(
    job_app: procrastinate.App,
    session: AsyncSession,
    task_name: str,
    arguments: dict[str, Any],
    **options: Any,
) -> int:
    """Enqueue task `m3crm:<task_name>` on the session's own connection, so the job
    exists only if the caller's transaction commits. `options` are procrastinate's
    `configure` options (`lock`, `queueing_lock`, `schedule_at`, `schedule_in`, …); the
    queue is `QUEUE`. Raises procrastinate's `AlreadyEnqueued` for a held queueing lock."""
    connection = await session.connection()
    raw: Any = await connection.get_raw_connection()
    task = job_app.tasks[f"m3crm:{task_name}"]
    job_id: int = await task.configure(
        connection=raw.driver_connection, queue=QUEUE, **options
    ).defer_async(**arguments)
    return job_id


async def defer_run_job(
    job_app: procrastinate.App, session: AsyncSession, *, run_id: UUID, tenant_id: UUID
) -> int:
    """Enqueue the job of a run on the session's connection (same transaction)."""
    arguments = {"run_id": str(run_id), "tenant_id": str(tenant_id)}
    return await defer_in_transaction(job_app, session, RUN_TASK, arguments, lock=f"run:{run_id}")
