"""The import wizard (Section 3 §8 via §2 "CSV import"): upload → mapping → preview → commit.

One page whose steps are htmx partials swapped into `#import-wizard`, calling the same
`imports` service as the API; a refused step re-renders itself with its message (422).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import procrastinate
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import DomainError, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.auth import ContactsCreate
from m3crm.modules.contacts.import_rows import STANDARD_TARGETS
from m3crm.modules.contacts.imports import imports
from m3crm.modules.contacts.web_support import field_errors
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.modules.runs.api import job_app
from m3crm.web.templating import render

router = APIRouter(prefix="/contacts/imports", include_in_schema=False)
UPLOAD_PAGE_PATH = "/contacts/imports"

TARGET_LABELS = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "job_title": N_("Job title"),
    "lifecycle_stage": N_("Stage"),
    "source": N_("Source"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "whatsapp": N_("WhatsApp"),
    "company": N_("Company (by name)"),
}


async def _targets(session: DbSession, subject: AuthSubject) -> list[tuple[str, str]]:
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.CONTACT, active_only=True
    )
    return [(t, TARGET_LABELS[t]) for t in STANDARD_TARGETS] + [
        (f"cf.{d.code}", d.label) for d in defs
    ]


def _step(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return render(request, f"contacts/_import_{name}.html", context, status_code=status_code)


@router.get("/new", response_class=HTMLResponse)
async def import_page(request: Request, subject: ContactsCreate) -> HTMLResponse:
    request.state.locale = subject.user.locale
    return render(request, "contacts/import.html", {"errors": {}})


@router.post("", response_class=HTMLResponse)
async def upload(request: Request, session: DbSession, subject: ContactsCreate) -> HTMLResponse:
    request.state.locale = subject.user.locale
    form = await request.form()
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile):
            raise ValidationFailed({"file": N_("Choose a CSV file.")})
        made = await imports.upload(
            session, subject, file.filename or "contacts.csv", await file.read()
        )
    except ValidationFailed as invalid:
        return _step(request, "upload", {"errors": field_errors(invalid)}, status_code=422)
    return _step(
        request,
        "mapping",
        {
            "upload": made,
            "mapping": made.mapping,
            "targets": await _targets(session, subject),
            "errors": {},
        },
    )


@router.post("/{import_id}/mapping", response_class=HTMLResponse)
async def map_and_preview(
    request: Request, import_id: UUID, session: DbSession, subject: ContactsCreate
) -> HTMLResponse:
    """Save the mapping and check every row at once (the preview)."""
    request.state.locale = subject.user.locale
    made = await imports.get(session, subject, import_id)
    form = await request.form()
    mapping = {
        column: str(form.get(f"map.{i}"))
        for i, column in enumerate(made.columns)
        if form.get(f"map.{i}")
    }
    try:
        await imports.set_mapping(session, subject, made, mapping)
        previewed = await imports.preview(session, subject, made.id)
    except ValidationFailed as invalid:
        context = {
            "upload": made,
            "mapping": mapping,
            "targets": await _targets(session, subject),
            "errors": field_errors(invalid),
        }
        return _step(request, "mapping", context, status_code=422)
    return _step(request, "preview", {"upload": previewed, "error": None})


@router.post("/{import_id}/commit", response_class=HTMLResponse)
async def commit(
    request: Request,
    import_id: UUID,
    session: DbSession,
    subject: ContactsCreate,
    jobs: Annotated[procrastinate.App, Depends(job_app)],
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    made = await imports.get(session, subject, import_id)
    form = await request.form()
    try:
        started = await imports.commit(
            session, subject, jobs, made.id, skip_duplicates="skip_duplicates" in form
        )
    except DomainError as refused:
        return _step(
            request,
            "preview",
            {"upload": made, "error": refused.message},
            status_code=refused.status_code,
        )
    return _step(request, "done", {"upload": made, "run": started})
