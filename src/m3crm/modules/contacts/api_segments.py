"""JSON API `/v1/segments` (Section 3 §4): saved filters, their live count and members."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.pagination import MAX_LIMIT, SORT_CURSOR_PATTERN, PageRequest
from m3crm.modules.contacts.api_support import (
    SortParam,
    company_out,
    company_sort,
    contact_out,
    contact_sort,
)
from m3crm.modules.contacts.auth import ContactsRead, ContactsUpdate
from m3crm.modules.contacts.companies import company as company_service
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.models import SegmentEntity
from m3crm.modules.contacts.repository import ContactFilters
from m3crm.modules.contacts.repository_companies import CompanyFilters
from m3crm.modules.contacts.schemas import (
    CompanyPage,
    ContactPage,
    FilterCheckIn,
    SegmentCount,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
)
from m3crm.modules.contacts.segments import segment as segment_service

router = APIRouter(
    prefix="/v1/segments",
    tags=["segments"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


async def _count(
    session: DbSession, subject: ContactsRead, entity: SegmentEntity, definition: object
) -> int:
    condition = await segment_service.condition(session, subject, entity, definition)
    if entity is SegmentEntity.CONTACT:
        return await contact_service.count(session, subject, ContactFilters(segment=condition))
    return await company_service.count(session, subject, CompanyFilters(segment=condition))


@router.get("", response_model=list[SegmentOut])
async def list_segments(
    session: DbSession, subject: ContactsRead, entity: SegmentEntity | None = None
) -> list[SegmentOut]:
    return [
        SegmentOut.model_validate(s) for s in await segment_service.list(session, subject, entity)
    ]


@router.post(
    "",
    response_model=SegmentOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict),
)
async def create_segment(
    body: SegmentIn, session: DbSession, subject: ContactsUpdate
) -> SegmentOut:
    """The definition is checked (422 with the path of the bad node, e.g.
    `definition.conditions.1.operator`); a name taken for the entity is 409."""
    created = await segment_service.create(
        session, subject, name=body.name, entity=body.entity, definition=body.definition
    )
    return SegmentOut.model_validate(created)


@router.post("/preview", response_model=SegmentCount)
async def preview_segment(
    body: FilterCheckIn, session: DbSession, subject: ContactsRead
) -> SegmentCount:
    """The live count of an unsaved definition (what the editor shows while typing)."""
    return SegmentCount(count=await _count(session, subject, body.entity, body.definition))


@router.get("/{segment_id}", response_model=SegmentOut, responses=error_responses(NotFound))
async def get_segment(segment_id: UUID, session: DbSession, subject: ContactsRead) -> SegmentOut:
    return SegmentOut.model_validate(await segment_service.get(session, subject, segment_id))


@router.patch(
    "/{segment_id}", response_model=SegmentOut, responses=error_responses(NotFound, Conflict)
)
async def update_segment(
    segment_id: UUID, body: SegmentPatch, session: DbSession, subject: ContactsUpdate
) -> SegmentOut:
    updated = await segment_service.update(
        session, subject, segment_id, name=body.name, definition=body.definition
    )
    return SegmentOut.model_validate(updated)


@router.delete(
    "/{segment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(NotFound)
)
async def delete_segment(segment_id: UUID, session: DbSession, subject: ContactsUpdate) -> Response:
    await segment_service.delete(session, subject, segment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{segment_id}/count", response_model=SegmentCount, responses=error_responses(NotFound))
async def count_segment(
    segment_id: UUID, session: DbSession, subject: ContactsRead
) -> SegmentCount:
    """Counted now (a live query), over the records the caller may see."""
    saved = await segment_service.get(session, subject, segment_id)
    return SegmentCount(count=await _count(session, subject, saved.entity_type, saved.definition))


@router.get(
    "/{segment_id}/members",
    response_model=ContactPage | CompanyPage,
    responses=error_responses(NotFound),
)
async def segment_members(
    segment_id: UUID,
    session: DbSession,
    subject: ContactsRead,
    sort: SortParam = "-created",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=SORT_CURSOR_PATTERN)] = None,
) -> ContactPage | CompanyPage:
    """Contacts or companies (by the segment's entity), seek-paginated."""
    saved = await segment_service.get(session, subject, segment_id)
    condition = await segment_service.condition(
        session, subject, saved.entity_type, saved.definition
    )
    page = PageRequest(limit=limit, cursor=cursor)
    if saved.entity_type is SegmentEntity.CONTACT:
        contacts = await contact_service.list_page(
            session, subject, ContactFilters(segment=condition), page, contact_sort(sort)
        )
        return ContactPage(
            items=[contact_out(v) for v in contacts.items], next_cursor=contacts.next_cursor
        )
    companies = await company_service.list_page(
        session, subject, CompanyFilters(segment=condition), page, company_sort(sort)
    )
    return CompanyPage(
        items=[company_out(v) for v in companies.items], next_cursor=companies.next_cursor
    )
