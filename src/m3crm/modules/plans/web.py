"""The "Plan" screen (§12.4 Entitlements, Seat Management): the workspace's plan read-only
— its features and every limit with its live usage (seats, records, this month's SMS and
WhatsApp) — and an "ask for an upgrade" button. Same service as `GET /v1/admin/plan`,
same permission (`plan.view`) and plan feature (`plan.view`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession, require_feature
from m3crm.modules.plans.api import PlanViewer
from m3crm.modules.plans.service import plan
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)
NEAR_LIMIT_PERCENT = 80
"""A usage at or above this share of its limit is highlighted (a soft nudge)."""


@router.get("/admin/plan", response_class=HTMLResponse)
async def plan_page(
    request: Request,
    session: DbSession,
    subject: PlanViewer,
    _feature: Annotated[None, Depends(require_feature("plan.view"))],
) -> HTMLResponse:
    overview = await plan.overview(session, subject)
    return render(
        request,
        "plans/plan.html",
        {"overview": overview, "near_limit": NEAR_LIMIT_PERCENT},
    )
