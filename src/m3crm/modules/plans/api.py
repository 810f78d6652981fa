"""JSON API of the tenant's plan: `/v1/admin/plan` and its dev-only preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from m3crm.kernel.auth import AuthSubject, DbSession, get_settings_dep, require, require_feature
from m3crm.kernel.errors import (
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    ValidationFailed,
    error_responses,
)
from m3crm.modules.plans.schemas import PlanOut, PlanPreviewIn, PlanPreviewOut
from m3crm.modules.plans.service import plan
from m3crm.settings import Settings

PlanViewer = Annotated[AuthSubject, Depends(require("plan.view"))]

router = APIRouter(
    prefix="/v1/admin/plan",
    tags=["plans"],
    dependencies=[Depends(require_feature("plan.view"))],
    responses=error_responses(NotAuthenticated, PermissionDenied, PlanRequired, ValidationFailed),
)


@router.get("", response_model=PlanOut)
async def get_plan(session: DbSession, subject: PlanViewer) -> PlanOut:
    """Current plan, its features, its limits with the live usage of each."""
    return PlanOut.model_validate(await plan.overview(session, subject))


@router.post("/preview", response_model=PlanPreviewOut, responses=error_responses(NotFound))
async def preview_plan(
    body: PlanPreviewIn,
    session: DbSession,
    subject: PlanViewer,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> PlanPreviewOut:
    """Simulate moving to another plan (not in production, where it is a 404): features
    gained and lost, limits old → new, and usages the new limits would exceed. Nothing
    is changed."""
    if settings.environment == "production":
        raise NotFound()
    return PlanPreviewOut.model_validate(await plan.preview(session, subject, body.plan_code))
