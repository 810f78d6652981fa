"""A worker in its own process, for the crash test: `python -m tests.worker_process URL`."""

from __future__ import annotations

import asyncio
import sys

import tests.run_handlers  # noqa: F401  (registers the test run type)
from m3crm.app import register_modules
from m3crm.kernel.db.session import Database
from m3crm.kernel.db.urls import resolve_urls
from m3crm.worker import build_worker_app, run_worker
from tests.harness import settings_for


async def main(owner_url: str) -> None:
    settings = settings_for(owner_url, stalled_worker_seconds=2.0)
    register_modules()
    database = Database(resolve_urls(settings), pool_size=2)
    job_app = build_worker_app(database, settings)
    async with job_app.open_async():
        await run_worker(job_app, settings, database)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
