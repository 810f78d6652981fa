"""JSON API `/v1/runs` (tenant-scoped; another tenant's run id is a 404)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import procrastinate
from fastapi import APIRouter, Depends, Query, Request

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import (
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.pagination import CURSOR_PATTERN, MAX_LIMIT, PageRequest
from m3crm.kernel.runs.models import RunStatus
from m3crm.kernel.runs.service import run as run_service
from m3crm.modules.runs.auth import RunsManage, RunsRead
from m3crm.modules.runs.schemas import RunPage, RunRead

router = APIRouter(
    prefix="/v1/runs",
    tags=["runs"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


async def job_app(request: Request) -> procrastinate.App:
    app: procrastinate.App = request.app.state.job_app
    return app


@router.get("", response_model=RunPage)
async def list_runs(
    session: DbSession,
    subject: RunsRead,
    status: RunStatus | None = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
    initiator_user_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> RunPage:
    """Newest first; filters: status, type, who started the run."""
    page = await run_service.list(
        session,
        subject,
        PageRequest(limit=limit, cursor=cursor),
        status=status,
        type=type,
        initiator_user_id=initiator_user_id,
    )
    return RunPage(
        items=[RunRead.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/{run_id}", response_model=RunRead, responses=error_responses(NotFound))
async def get_run(run_id: UUID, session: DbSession, subject: RunsRead) -> RunRead:
    return RunRead.model_validate(await run_service.get(session, subject, run_id))


@router.post(
    "/{run_id}/requeue",
    response_model=RunRead,
    responses=error_responses(NotFound, InvalidTransition),
)
async def requeue_run(
    run_id: UUID,
    session: DbSession,
    subject: RunsManage,
    jobs: Annotated[procrastinate.App, Depends(job_app)],
) -> RunRead:
    return RunRead.model_validate(await run_service.requeue(session, subject, jobs, run_id))
