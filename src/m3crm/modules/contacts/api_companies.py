"""JSON API `/v1/companies` (Section 3 §4)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import (
    Conflict,
    LimitReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.pagination import MAX_LIMIT, SORT_CURSOR_PATTERN, PageRequest
from m3crm.modules.contacts.api_support import SortParam, company_out, company_sort
from m3crm.modules.contacts.auth import (
    CompaniesCreate,
    CompaniesDelete,
    CompaniesRead,
    CompaniesUpdate,
)
from m3crm.modules.contacts.companies import CompanyInput
from m3crm.modules.contacts.companies import company as company_service
from m3crm.modules.contacts.models import CompanyStatus, SegmentEntity
from m3crm.modules.contacts.repository_companies import CompanyFilters
from m3crm.modules.contacts.schemas import CompanyCreate, CompanyOut, CompanyPage, CompanyPatch
from m3crm.modules.contacts.segments import segment as segment_service

router = APIRouter(
    prefix="/v1/companies",
    tags=["companies"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)

Text = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


@router.get("", response_model=CompanyPage)
async def list_companies(
    session: DbSession,
    subject: CompaniesRead,
    domain: Text = None,
    name: Text = None,
    city: Text = None,
    status: CompanyStatus | None = None,
    segment: UUID | None = None,
    q: Text = None,
    sort: SortParam = "-created",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=SORT_CURSOR_PATTERN)] = None,
) -> CompanyPage:
    condition = None
    if segment is not None:
        saved = await segment_service.find(session, subject, segment, SegmentEntity.COMPANY)
        condition = await segment_service.condition(
            session, subject, SegmentEntity.COMPANY, saved.definition
        )
    filters = CompanyFilters(
        domain=domain, name=name, city=city, status=status, q=q, segment=condition
    )
    page = await company_service.list_page(
        session, subject, filters, PageRequest(limit=limit, cursor=cursor), company_sort(sort)
    )
    return CompanyPage(items=[company_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    response_model=CompanyOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(LimitReached, Conflict),
)
async def create_company(
    body: CompanyCreate, session: DbSession, subject: CompaniesCreate
) -> CompanyOut:
    """Audited `company.created`; counts against `companies.max` (422 `LIMIT_REACHED`)."""
    data = CompanyInput(**body.model_dump())
    created = await company_service.create(session, subject, data)
    return company_out((await company_service.views(session, subject, [created]))[0])


@router.get("/{company_id}", response_model=CompanyOut, responses=error_responses(NotFound))
async def get_company(company_id: UUID, session: DbSession, subject: CompaniesRead) -> CompanyOut:
    found = await company_service.get_readable(session, subject, company_id)
    return company_out((await company_service.views(session, subject, [found]))[0])


@router.patch(
    "/{company_id}", response_model=CompanyOut, responses=error_responses(NotFound, Conflict)
)
async def update_company(
    company_id: UUID, body: CompanyPatch, session: DbSession, subject: CompaniesUpdate
) -> CompanyOut:
    changes = body.model_dump(exclude_unset=True, exclude={"custom_fields"})
    updated = await company_service.update(
        session, subject, company_id, changes, body.custom_fields
    )
    return company_out((await company_service.views(session, subject, [updated]))[0])


@router.delete(
    "/{company_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(NotFound)
)
async def delete_company(
    company_id: UUID, session: DbSession, subject: CompaniesDelete
) -> Response:
    """Tombstones the company; its contacts stay, without it. Audited `company.deleted`."""
    await company_service.delete(session, subject, company_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
