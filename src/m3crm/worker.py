"""Running procrastinate workers for OperationRuns (`m3crm worker`, or in-process)."""

from __future__ import annotations

import procrastinate
import structlog

from m3crm.kernel.db.session import Database
from m3crm.kernel.runs import queue
from m3crm.kernel.runs.worker import configure_worker_runtime, requeue_stalled
from m3crm.settings import Settings

log = structlog.get_logger(__name__)


def build_worker_app(database: Database, settings: Settings) -> procrastinate.App:
    """A procrastinate App connected as the app role, with the configured retry policy."""
    configure_worker_runtime(database, stalled_seconds=settings.stalled_worker_seconds)
    queue.configure_retry(
        max_attempts=settings.job_max_attempts,
        base_seconds=settings.job_backoff_base_seconds,
        cap_seconds=settings.job_backoff_cap_seconds,
    )
    return queue.build_job_app(database.urls.app_libpq)


async def run_worker(job_app: procrastinate.App, settings: Settings) -> None:
    """Recover jobs of dead workers, then process the runs queue until cancelled."""
    recovered = await requeue_stalled(job_app, settings.stalled_worker_seconds)
    if recovered:
        log.info("worker.recovered_stalled_jobs", count=recovered)
    heartbeat = max(0.5, settings.stalled_worker_seconds / 6)
    await job_app.run_worker_async(
        queues=[queue.QUEUE],
        concurrency=settings.worker_concurrency,
        update_heartbeat_interval=heartbeat,
        stalled_worker_timeout=settings.stalled_worker_seconds,
        install_signal_handlers=False,
    )
