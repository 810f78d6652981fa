"""Monitoring screen `/monitoring/runs`: the same service calls as the API, as pages."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import procrastinate
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import CURSOR_PATTERN, PageRequest
from m3crm.kernel.runs.models import RunStatus
from m3crm.kernel.runs.service import run as run_service
from m3crm.modules.runs.api import job_app
from m3crm.modules.runs.auth import RunsManage, RunsRead
from m3crm.web.templating import render

router = APIRouter(prefix="/monitoring/runs", include_in_schema=False)

STATUS_LABELS = {
    RunStatus.QUEUED: N_("queued"),
    RunStatus.RUNNING: N_("running"),
    RunStatus.SUCCEEDED: N_("succeeded"),
    RunStatus.FAILED: N_("failed"),
    RunStatus.DENIED: N_("denied"),
    RunStatus.CANCELLED: N_("cancelled"),
}


@router.get("", response_class=HTMLResponse)
async def runs_page(
    request: Request,
    session: DbSession,
    subject: RunsRead,
    status: RunStatus | None = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    page = await run_service.list(
        session, subject, PageRequest(limit=50, cursor=cursor), status=status
    )
    return render(
        request,
        "runs/index.html",
        {
            "page": page,
            "status": status,
            "statuses": list(RunStatus),
            "can_manage": subject.can("ops.runs.manage"),
        },
    )


@router.post("/{run_id}/requeue", response_class=HTMLResponse)
async def requeue(
    request: Request,
    run_id: UUID,
    session: DbSession,
    subject: RunsManage,
    jobs: Annotated[procrastinate.App, Depends(job_app)],
) -> HTMLResponse:
    """HTMX: requeue a failed run and swap its row."""
    request.state.locale = subject.user.locale
    run = await run_service.requeue(session, subject, jobs, run_id)
    return render(request, "runs/_row.html", {"run": run, "can_manage": True})
