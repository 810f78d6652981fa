"""Pages of the access capability: the "Request access" call to action of refused pages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession, Subject
from m3crm.modules.access.requests import request_access
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)


@router.post("/access/request", response_class=HTMLResponse)
async def ask_for_access(
    request: Request,
    session: DbSession,
    subject: Subject,
    kind: Annotated[Literal["access", "upgrade"], Form()],
    path: Annotated[str, Form(max_length=300)],
) -> HTMLResponse:
    """HTMX: notify the administrators and answer with a confirmation in place."""
    notified = await request_access(session, subject, kind=kind, path=path, what=path)
    return render(request, "access/_requested.html", {"notified": notified})
