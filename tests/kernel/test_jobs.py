"""Jobs end to end with committed data: success, denial, retries, crash recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import procrastinate
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.auth import load_subject
from m3crm.kernel.db.session import Database
from m3crm.kernel.runs.models import OperationRun, RunStatus
from m3crm.kernel.runs.service import run as run_service
from m3crm.kernel.tenancy.models import TenantStatus, UserStatus
from m3crm.settings import PROJECT_ROOT, Settings
from m3crm.worker import build_worker_app
from tests.factories import make_tenant, make_user
from tests.harness import MigratedDatabase
from tests.run_handlers import TEST_RUN

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def worker_app(database: Database, settings: Settings) -> AsyncIterator[procrastinate.App]:
    tuned = settings.model_copy(update={"job_max_attempts": 2, "stalled_worker_seconds": 1.0})
    job_app = build_worker_app(database, tuned)
    async with job_app.open_async():
        yield job_app


async def drain(job_app: procrastinate.App) -> None:
    """Process every job that is due, then return."""
    await job_app.run_worker_async(
        queues=["runs"], wait=False, install_signal_handlers=False, concurrency=1
    )


async def new_user(database: Database, tenant_id: UUID, email: str) -> UUID:
    async with database.transaction(tenant_id) as session:
        return await make_user(
            session,
            tenant_id=tenant_id,
            email=email,
            role="sales_manager",  # type: ignore[arg-type]
        )


async def dispatch(
    database: Database, job_app: procrastinate.App, tenant_id: UUID, user_id: UUID, **payload: Any
) -> UUID:
    async with database.transaction(tenant_id) as session:
        subject = await load_subject(session, tenant_id, user_id)
        assert subject is not None
        run = await run_service.dispatch(
            session, subject, job_app, TEST_RUN, payload, permission="ops.runs.read"
        )
        return run.id


async def fetch(database: Database, tenant_id: UUID, run_id: UUID) -> OperationRun:
    async with database.transaction(tenant_id) as session:
        run = await session.get(OperationRun, (tenant_id, run_id))
        assert run is not None
        return run


async def side_effects(database: Database, tenant_id: UUID, run_id: UUID) -> int:
    async with database.transaction(tenant_id) as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM audit_logs WHERE action = 'test.side_effect'"
                " AND entity_id = :id"
            ),
            {"id": str(run_id)},
        )
        return int(count or 0)


async def audited(database: Database, tenant_id: UUID, run_id: UUID, action: str) -> bool:
    async with database.transaction(tenant_id) as session:
        found = await session.scalar(
            text("SELECT count(*) FROM audit_logs WHERE action = :a AND entity_id = :id"),
            {"a": action, "id": str(run_id)},
        )
        return bool(found)


async def test_run_succeeds_with_progress_and_one_side_effect(
    database: Database, worker_app: procrastinate.App, world: Any
) -> None:
    user = await new_user(database, world.a.id, "ok@alpha.test")
    run_id = await dispatch(database, worker_app, world.a.id, user)
    await drain(worker_app)
    run = await fetch(database, world.a.id, run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert run.result == {"ok": True}
    assert run.progress_done == 1 and run.progress_total == 2
    assert run.attempts == 1 and run.finished_at is not None
    assert await side_effects(database, world.a.id, run_id) == 1
    assert await audited(database, world.a.id, run_id, "run.succeeded")


async def test_actor_suspended_after_dispatch_is_denied(
    database: Database, worker_app: procrastinate.App, world: Any
) -> None:
    user = await new_user(database, world.a.id, "suspended@alpha.test")
    run_id = await dispatch(database, worker_app, world.a.id, user)
    async with database.transaction(world.a.id) as session:
        await session.execute(
            text("UPDATE users SET status = :s WHERE tenant_id = :t AND id = :u"),
            {"s": UserStatus.SUSPENDED.value, "t": world.a.id, "u": user},
        )
    await drain(worker_app)
    run = await fetch(database, world.a.id, run_id)
    assert run.status == RunStatus.DENIED
    assert run.reason is not None and "no longer active" in run.reason
    assert await side_effects(database, world.a.id, run_id) == 0
    assert await audited(database, world.a.id, run_id, "run.denied")


async def test_tenant_suspended_after_dispatch_is_denied(
    database: Database, worker_app: procrastinate.App, test_db: MigratedDatabase
) -> None:
    """A workspace suspended between dispatch and pick-up runs nothing (its own tenant,
    so the shared ones stay active)."""
    owner = create_async_engine(test_db.urls.owner)
    try:
        async with AsyncSession(owner) as session, session.begin():
            tenant = await make_tenant(session, slug="suspended-ws")
        run_id = await dispatch(database, worker_app, tenant.id, tenant.admin_id)
        async with owner.begin() as conn:
            await conn.execute(
                text("UPDATE tenants SET status = :s WHERE id = :t"),
                {"s": TenantStatus.SUSPENDED.value, "t": tenant.id},
            )
        await drain(worker_app)
        run = await fetch(database, tenant.id, run_id)
        assert run.status == RunStatus.DENIED
        assert run.reason is not None and "no longer active" in run.reason
        assert await side_effects(database, tenant.id, run_id) == 0
        assert await audited(database, tenant.id, run_id, "run.denied")
    finally:
        await owner.dispose()


async def test_permission_revoked_after_dispatch_is_denied(
    database: Database, worker_app: procrastinate.App, world: Any
) -> None:
    user = await new_user(database, world.a.id, "revoked@alpha.test")
    run_id = await dispatch(database, worker_app, world.a.id, user)
    async with database.transaction(world.a.id) as session:
        await session.execute(
            text("DELETE FROM user_roles WHERE tenant_id = :t AND user_id = :u"),
            {"t": world.a.id, "u": user},
        )
    await drain(worker_app)
    run = await fetch(database, world.a.id, run_id)
    assert run.status == RunStatus.DENIED
    assert run.reason is not None and "ops.runs.read" in run.reason


async def test_failing_run_retries_then_fails_and_can_be_requeued(
    database: Database, worker_app: procrastinate.App, world: Any
) -> None:
    user = await new_user(database, world.a.id, "failing@alpha.test")
    run_id = await dispatch(database, worker_app, world.a.id, user, fail=True)
    await drain(worker_app)
    assert (await fetch(database, world.a.id, run_id)).status == RunStatus.QUEUED
    await asyncio.sleep(1.5)  # the retry is scheduled 1 s later
    await drain(worker_app)
    run = await fetch(database, world.a.id, run_id)
    assert run.status == RunStatus.FAILED
    assert run.attempts == 2 and run.reason is not None and "simulated failure" in run.reason
    assert await side_effects(database, world.a.id, run_id) == 0
    assert await audited(database, world.a.id, run_id, "run.failed")
    async with database.transaction(world.a.id) as session:
        subject = await load_subject(session, world.a.id, world.a.admin_id)
        assert subject is not None
        requeued = await run_service.requeue(session, subject, worker_app, run_id)
        assert requeued.status == RunStatus.QUEUED


async def test_killed_worker_loses_no_job_and_rerun_is_idempotent(
    database: Database,
    worker_app: procrastinate.App,
    world: Any,
    test_db: MigratedDatabase,
    tmp_path: Path,
) -> None:
    block = tmp_path / "block"
    block.touch()
    user = await new_user(database, world.a.id, "crash@alpha.test")
    run_id = await dispatch(database, worker_app, world.a.id, user, block_file=str(block))
    owner = test_db.urls.owner.render_as_string(hide_password=False)
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "tests.worker_process", owner],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        for _ in range(600):  # up to 30 s for the subprocess to start and claim the run
            if (await fetch(database, world.a.id, run_id)).status == RunStatus.RUNNING:
                break
            await asyncio.sleep(0.05)
        assert (await fetch(database, world.a.id, run_id)).status == RunStatus.RUNNING
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert await side_effects(database, world.a.id, run_id) == 0  # rolled back with the crash
    block.unlink()
    await asyncio.sleep(1.5)  # the dead worker's heartbeat goes stale
    from m3crm.kernel.runs.worker import requeue_stalled

    assert await requeue_stalled(worker_app, 1.0) >= 1
    await drain(worker_app)
    run = await fetch(database, world.a.id, run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert run.attempts == 2
    assert await side_effects(database, world.a.id, run_id) == 1


async def test_plan_gate_at_dispatch_and_again_at_execution(
    database: Database, worker_app: procrastinate.App, world: Any, test_db: MigratedDatabase
) -> None:
    """402 when the plan lacks the handler's feature; a downgrade after dispatch → denied."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from m3crm.kernel.errors import PlanRequired
    from tests.factories import make_tenant
    from tests.run_handlers import GATED_RUN

    async with database.transaction(world.b.id) as session:
        subject = await load_subject(session, world.b.id, world.b.admin_id)
        assert subject is not None
        with pytest.raises(PlanRequired):
            await run_service.dispatch(
                session, subject, worker_app, GATED_RUN, {}, permission="ops.runs.read"
            )
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug="downgraded", plan_code="DevPro")
    await engine.dispose()
    async with database.transaction(tenant.id) as session:
        subject = await load_subject(session, tenant.id, tenant.admin_id)
        assert subject is not None
        run = await run_service.dispatch(
            session, subject, worker_app, GATED_RUN, {}, permission="ops.runs.read"
        )
        await session.execute(
            text(
                "UPDATE tenant_plans SET plan_id = (SELECT id FROM plans WHERE code = 'DevFree')"
                " WHERE tenant_id = :t"
            ),
            {"t": tenant.id},
        )
    await drain(worker_app)
    denied = await fetch(database, tenant.id, run.id)
    assert denied.status == RunStatus.DENIED
    assert denied.reason is not None and "twofa.sms" in denied.reason
