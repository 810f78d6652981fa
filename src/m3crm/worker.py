"""The worker: procrastinate for OperationRuns and queued tasks, plus the outbox's
delivery pump (`m3crm worker`, or in-process with `m3crm run`)."""

from __future__ import annotations

import asyncio
import contextlib

import procrastinate
import structlog

from m3crm.kernel.db.session import Database
from m3crm.kernel.runs import queue
from m3crm.kernel.runs.worker import configure_worker_runtime, requeue_stalled
from m3crm.modules.notify.delivery import DeliveryPump
from m3crm.modules.notify.providers.registry import ProviderFactory
from m3crm.settings import Settings

log = structlog.get_logger(__name__)


def build_worker_app(database: Database, settings: Settings) -> procrastinate.App:
    """A procrastinate App connected as the app role, with the configured retry policy."""
    configure_worker_runtime(database)
    queue.configure_retry(
        max_attempts=settings.job_max_attempts,
        base_seconds=settings.job_backoff_base_seconds,
        cap_seconds=settings.job_backoff_cap_seconds,
    )
    return queue.build_job_app(database.urls.app_libpq)


async def recover_stalled_forever(job_app: procrastinate.App, stalled_seconds: float) -> None:
    """Every `stalled_seconds / 2`, requeue jobs of workers that stopped heartbeating."""
    while True:
        recovered = await requeue_stalled(job_app, stalled_seconds)
        if recovered:
            log.info("worker.recovered_stalled_jobs", count=recovered)
        await asyncio.sleep(stalled_seconds / 2)


async def run_worker(
    job_app: procrastinate.App,
    settings: Settings,
    database: Database,
    *,
    install_signal_handlers: bool = False,
) -> None:
    """Process the runs queue and deliver the outbox until cancelled, recovering
    stalled jobs alongside."""
    heartbeat = max(0.5, settings.stalled_worker_seconds / 6)
    recovery = asyncio.create_task(
        recover_stalled_forever(job_app, settings.stalled_worker_seconds)
    )
    providers = ProviderFactory(settings)
    pump = asyncio.create_task(DeliveryPump(database, settings, providers, job_app).run_forever())
    try:
        await job_app.run_worker_async(
            queues=[queue.QUEUE],
            concurrency=settings.worker_concurrency,
            update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=settings.stalled_worker_seconds,
            install_signal_handlers=install_signal_handlers,
        )
    finally:
        recovery.cancel()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        await providers.close()
