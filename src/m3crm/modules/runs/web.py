"""Monitoring screen `/monitoring/runs`: the same service calls as the API, as pages."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode
from uuid import UUID

import procrastinate
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import StringConstraints

from m3crm.kernel.auth import DbSession
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import CURSOR_PATTERN, PageRequest
from m3crm.kernel.runs.models import RunStatus
from m3crm.kernel.runs.registry import run_types
from m3crm.kernel.runs.service import run as run_service
from m3crm.modules.runs.api import job_app
from m3crm.modules.runs.auth import RunsManage, RunsRead
from m3crm.web.filters import BlankIsNone
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


StatusFilter = Annotated[RunStatus | None, BlankIsNone]
TypeFilter = Annotated[Annotated[str, StringConstraints(max_length=100)] | None, BlankIsNone]
InitiatorFilter = Annotated[Literal["me"] | None, BlankIsNone]


@router.get("", response_class=HTMLResponse)
async def runs_page(
    request: Request,
    session: DbSession,
    subject: RunsRead,
    status: StatusFilter = None,
    type: TypeFilter = None,
    initiator: InitiatorFilter = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> HTMLResponse:
    """Filters: status, type, and "started by me"; newest first."""
    page = await run_service.list(
        session,
        subject,
        PageRequest(limit=50, cursor=cursor),
        status=status,
        type=type,
        initiator_user_id=subject.user_id if initiator == "me" else None,
    )
    filters = {"status": status.value if status else None, "type": type, "initiator": initiator}
    return render(
        request,
        "runs/index.html",
        {
            "page": page,
            "status": status,
            "type": type,
            "initiator": initiator,
            "filters": urlencode({k: v for k, v in filters.items() if v}),
            "statuses": list(RunStatus),
            "status_labels": STATUS_LABELS,
            "types": run_types(),
            "can_manage": subject.can("ops.runs.manage"),
        },
    )


@router.get("/{run_id}", response_class=HTMLResponse)
async def run_page(
    request: Request, run_id: UUID, session: DbSession, subject: RunsRead
) -> HTMLResponse:
    """One run: progress, counts, result or error, attempts; while it is queued or
    running, the panel refreshes itself every few seconds."""
    run = await run_service.get(session, subject, run_id)
    context = {
        "run": run,
        "status_labels": STATUS_LABELS,
        "can_manage": subject.can("ops.runs.manage"),
    }
    partial = request.headers.get("hx-request") == "true"
    return render(request, "runs/_detail.html" if partial else "runs/detail.html", context)


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
    context = {"run": run, "can_manage": True, "status_labels": STATUS_LABELS}
    if request.query_params.get("view") == "detail":
        return render(request, "runs/_detail.html", context)
    return render(request, "runs/_row.html", context)
