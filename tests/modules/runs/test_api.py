"""`/v1/runs`: list, detail, requeue, with the negative paths."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import load_subject
from m3crm.kernel.i18n import gettext
from m3crm.kernel.runs.models import OperationRun, RunStatus
from m3crm.kernel.runs.service import run as run_service
from m3crm.kernel.tenancy.models import User
from tests.conftest import World, error_code
from tests.factories import SeededTenant
from tests.run_handlers import TEST_RUN


async def dispatch(
    session: AsyncSession, app: FastAPI, tenant: SeededTenant, **kwargs: object
) -> OperationRun:
    subject = await load_subject(session, tenant.id, tenant.admin_id)
    assert subject is not None
    return await run_service.dispatch(
        session,
        subject,
        app.state.job_app,
        TEST_RUN,
        {},
        permission="ops.runs.read",
        **kwargs,  # type: ignore[arg-type]
    )


async def failed_run(
    session: AsyncSession, app: FastAPI, tenant: SeededTenant, reason: str = "boom"
) -> OperationRun:
    """A dispatched run put straight into `failed` (a dead letter), in the test's transaction."""
    run = await dispatch(session, app, tenant)
    run.status = RunStatus.FAILED
    run.reason = reason
    await session.flush()
    return run


async def test_dispatch_creates_run_and_job_in_same_transaction(
    session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await dispatch(session, app, world.a)
    assert run.status == RunStatus.QUEUED and run.job_id is not None
    job = (
        await session.execute(
            text("SELECT task_name, args FROM procrastinate_jobs WHERE id = :id"),
            {"id": run.job_id},
        )
    ).one()
    assert job.task_name == "m3crm:kernel.execute_run"
    assert job.args == {"run_id": str(run.id), "tenant_id": str(world.a.id)}


async def test_dedupe_key_returns_the_active_run(
    session: AsyncSession, app: FastAPI, world: World
) -> None:
    first = await dispatch(session, app, world.a, dedupe_key="nightly")
    second = await dispatch(session, app, world.a, dedupe_key="nightly")
    assert first.id == second.id


async def test_synchronous_enqueue_failure_marks_run_failed(
    session: AsyncSession, app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> int:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr("m3crm.kernel.runs.service.defer_run_job", broken)
    run = await dispatch(session, app, world.a)
    assert run.status == RunStatus.FAILED
    assert run.reason is not None and "queue unreachable" in run.reason


async def test_list_and_get_own_runs(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await dispatch(session, app, world.a)
    r = await client.get("/v1/runs", headers=world.headers(world.a))
    assert r.status_code == 200
    assert str(run.id) in {item["id"] for item in r.json()["items"]}
    r = await client.get(f"/v1/runs/{run.id}", headers=world.headers(world.a))
    assert r.status_code == 200
    assert r.json()["type"] == TEST_RUN and r.json()["status"] == "queued"


async def test_seek_pagination_walks_every_run(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    made = {str((await dispatch(session, app, world.a)).id) for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/runs?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=world.headers(world.a))).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert made <= set(seen)
    assert len(seen) == len(set(seen))


async def test_anonymous_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/runs")).status_code == 401


async def test_missing_permission_403(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/v1/runs", headers=world.headers(world.a, "member"))
    assert r.status_code == 403
    assert error_code(r) == "PERMISSION_DENIED"


async def test_other_tenant_run_is_404(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await dispatch(session, app, world.a)
    r = await client.get(f"/v1/runs/{run.id}", headers=world.headers(world.b))
    assert r.status_code == 404
    r = await client.post(f"/v1/runs/{run.id}/requeue", headers=world.headers(world.b))
    assert r.status_code == 404
    listed = (await client.get("/v1/runs", headers=world.headers(world.b))).json()["items"]
    assert str(run.id) not in {item["id"] for item in listed}


async def test_requeue_of_queued_run_is_409(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await dispatch(session, app, world.a)
    r = await client.post(f"/v1/runs/{run.id}/requeue", headers=world.headers(world.a))
    assert r.status_code == 409
    assert error_code(r) == "INVALID_TRANSITION"
    error = r.json()["error"]
    assert error["details"] == {"entity": "operation_run", "from": "queued", "to": "queued"}
    assert gettext("ar", error["message"]) == "هذا الإجراء غير مسموح به في الحالة الحالية."


async def test_requeue_failed_run_needs_manage_and_requeues(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await failed_run(session, app, world.a)
    r = await client.post(f"/v1/runs/{run.id}/requeue", headers=world.headers(world.a, "agent"))
    assert r.status_code == 403
    old_job = run.job_id
    r = await client.post(f"/v1/runs/{run.id}/requeue", headers=world.headers(world.a))
    assert r.status_code == 200
    assert r.json()["status"] == "queued" and r.json()["reason"] is None
    await session.refresh(run)
    assert run.job_id is not None and run.job_id != old_job


async def test_suspended_user_token_is_401(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    from m3crm.kernel.db.session import bind_tenant
    from m3crm.kernel.tenancy.models import UserStatus

    await bind_tenant(session, world.a.id, None)
    user = (
        await session.execute(
            select(User).where(User.tenant_id == world.a.id, User.id == world.a.admin_id)
        )
    ).scalar_one()
    user.status = UserStatus.SUSPENDED
    await session.flush()
    assert (await client.get("/v1/runs", headers=world.headers(world.a))).status_code == 401
