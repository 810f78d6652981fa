"""JSON API of CSV imports: `/v1/contacts/imports` (upload → mapping → preview → commit)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import procrastinate
from fastapi import APIRouter, Depends, File, Response, UploadFile, status

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import (
    Conflict,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.modules.contacts.auth import ContactsCreate
from m3crm.modules.contacts.imports import imports
from m3crm.modules.contacts.models import ContactImport
from m3crm.modules.contacts.schemas import CommitIn, ImportOut, MappingIn
from m3crm.modules.runs.api import job_app
from m3crm.modules.runs.schemas import RunRead

UPLOAD_PATH = "/v1/contacts/imports"


async def own_import(import_id: UUID, session: DbSession, subject: ContactsCreate) -> ContactImport:
    """Fetched before the body is read: another tenant's id is a 404 whatever it holds."""
    return await imports.get(session, subject, import_id)


OwnImport = Annotated[ContactImport, Depends(own_import)]

router = APIRouter(
    prefix=UPLOAD_PATH,
    tags=["contacts"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


@router.post(
    "",
    response_model=ImportOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(PayloadTooLarge),
)
async def upload_import(
    session: DbSession, subject: ContactsCreate, file: Annotated[UploadFile, File()]
) -> ImportOut:
    """A UTF-8 CSV with a header row (comma, semicolon or tab separated), up to 100,000
    rows. A malformed file is 422 on `file`. The answer suggests a column mapping."""
    data = await file.read()
    upload = await imports.upload(session, subject, file.filename or "contacts.csv", data)
    return ImportOut.model_validate(upload)


@router.get("/{import_id}", response_model=ImportOut, responses=error_responses(NotFound))
async def get_import(import_id: UUID, session: DbSession, subject: ContactsCreate) -> ImportOut:
    return ImportOut.model_validate(await imports.get(session, subject, import_id))


@router.put(
    "/{import_id}/mapping",
    response_model=ImportOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def set_mapping(
    upload: OwnImport, body: MappingIn, session: DbSession, subject: ContactsCreate
) -> ImportOut:
    """`{column: field}`; fields are the contact's (`first_name`, `email`, `phone`,
    `company`...) or `cf.<code>`; `first_name` must be mapped."""
    return ImportOut.model_validate(
        await imports.set_mapping(session, subject, upload, dict(body.mapping))
    )


@router.post(
    "/{import_id}/preview",
    response_model=ImportOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def preview_import(import_id: UUID, session: DbSession, subject: ContactsCreate) -> ImportOut:
    """Checks every row; `summary` counts valid, invalid and duplicate rows and shows
    the first 50 problems (the full list is `errors.csv`)."""
    return ImportOut.model_validate(await imports.preview(session, subject, import_id))


@router.get(
    "/{import_id}/errors.csv",
    responses={200: {"content": {"text/csv": {}}}, **error_responses(NotFound)},
)
async def import_errors(import_id: UUID, session: DbSession, subject: ContactsCreate) -> Response:
    report = await imports.errors_csv(session, subject, import_id)
    return Response(
        report,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'},
    )


@router.post(
    "/{import_id}/commit",
    response_model=RunRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(NotFound, Conflict, InvalidTransition),
)
async def commit_import(
    import_id: UUID,
    body: CommitIn,
    session: DbSession,
    subject: ContactsCreate,
    jobs: Annotated[procrastinate.App, Depends(job_app)],
) -> RunRead:
    """Queues the import run (watch it at `/v1/runs/{id}`); 409 while rows are invalid,
    409 `INVALID_TRANSITION` before a preview or once committed."""
    started = await imports.commit(
        session, subject, jobs, import_id, skip_duplicates=body.skip_duplicates
    )
    return RunRead.model_validate(started)
