"""JSON API `/v1/contacts` (Section 3 §4): list, create, read, change, delete, dedupe, merge."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import (
    Conflict,
    LimitReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.pagination import CURSOR_PATTERN, MAX_LIMIT, SORT_CURSOR_PATTERN, PageRequest
from m3crm.modules.contacts.api_support import SortParam, contact_out, contact_sort
from m3crm.modules.contacts.auth import (
    ContactsCreate,
    ContactsDelete,
    ContactsExport,
    ContactsMerge,
    ContactsRead,
    ContactsUpdate,
)
from m3crm.modules.contacts.contacts import ChannelInput, ContactInput
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.dedupe import Candidate, dedupe
from m3crm.modules.contacts.export import MEDIA_TYPES, ExportFormat
from m3crm.modules.contacts.export import export as export_service
from m3crm.modules.contacts.merge import merge as merge_service
from m3crm.modules.contacts.models import Lifecycle, SegmentEntity
from m3crm.modules.contacts.repository import ContactFilters
from m3crm.modules.contacts.schemas import (
    ContactCreate,
    ContactOut,
    ContactPage,
    ContactPatch,
    DedupeCheckIn,
    DuplicateOut,
    DuplicatePairOut,
    DuplicatePairPage,
    MergeIn,
)
from m3crm.modules.contacts.segments import segment as segment_service

router = APIRouter(
    prefix="/v1/contacts",
    tags=["contacts"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)

SearchText = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


async def _filters(
    session: DbSession,
    subject: AuthSubject,
    owner: UUID | None,
    company: UUID | None,
    lifecycle: Lifecycle | None,
    verified: bool | None,
    segment: UUID | None,
    q: str | None,
) -> ContactFilters:
    condition = None
    if segment is not None:
        saved = await segment_service.find(session, subject, segment, SegmentEntity.CONTACT)
        condition = await segment_service.condition(
            session, subject, SegmentEntity.CONTACT, saved.definition
        )
    return ContactFilters(
        owner_user_id=owner,
        company_id=company,
        lifecycle=lifecycle,
        verified=verified,
        q=q,
        segment=condition,
    )


@router.get("", response_model=ContactPage)
async def list_contacts(
    session: DbSession,
    subject: ContactsRead,
    owner: UUID | None = None,
    company: UUID | None = None,
    lifecycle: Lifecycle | None = None,
    verified: Annotated[bool | None, Query(description="Has a verified channel.")] = None,
    segment: Annotated[UUID | None, Query(description="A saved contact segment.")] = None,
    q: SearchText = None,
    sort: SortParam = "-created",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=SORT_CURSOR_PATTERN)] = None,
) -> ContactPage:
    """Seek-paginated; `q` matches the Arabic-normalised name, an e-mail prefix or the
    end of a phone number. A segment of another tenant or of companies is 422."""
    filters = await _filters(session, subject, owner, company, lifecycle, verified, segment, q)
    page = await contact_service.list_page(
        session, subject, filters, PageRequest(limit=limit, cursor=cursor), contact_sort(sort)
    )
    return ContactPage(items=[contact_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(PlanRequired, LimitReached, Conflict),
)
async def create_contact(
    body: ContactCreate, session: DbSession, subject: ContactsCreate
) -> ContactOut:
    """Audited `contact.created`. An e-mail or number another contact holds is 409 with
    `details.existing_id`; `is_private` needs `contacts.privateRecords` (402)."""
    data = ContactInput(
        first_name=body.first_name,
        last_name=body.last_name,
        job_title=body.job_title,
        company_id=body.company_id,
        owner_user_id=body.owner_user_id,
        lifecycle_stage=body.lifecycle_stage,
        is_private=body.is_private,
        source=body.source,
        channels=[ChannelInput(c.type, c.value, c.is_primary, c.locale) for c in body.channels],
        custom_fields=body.custom_fields,
    )
    created = await contact_service.create(session, subject, data)
    return contact_out(await contact_service.view(session, subject, created))


@router.get(
    "/export",
    responses={
        200: {"content": {"text/csv": {}, MEDIA_TYPES["xlsx"]: {}}},
        **error_responses(NotFound),
    },
)
async def export_contacts(
    session: DbSession,
    subject: ContactsExport,
    format: ExportFormat = "csv",
    owner: UUID | None = None,
    company: UUID | None = None,
    lifecycle: Lifecycle | None = None,
    verified: bool | None = None,
    segment: UUID | None = None,
    q: SearchText = None,
    sort: SortParam = "-created",
) -> Response:
    """The filtered list (same filters as the list) as CSV or XLSX, at most 100,000
    contacts. Needs `reports.export` besides `contact.read`; audited `contact.exported`."""
    filters = await _filters(session, subject, owner, company, lifecycle, verified, segment, q)
    body = await export_service.export(session, subject, filters, contact_sort(sort), format)
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="contacts.{format}"'},
    )


@router.get("/duplicates", response_model=DuplicatePairPage)
async def list_duplicate_pairs(
    session: DbSession,
    subject: ContactsMerge,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> DuplicatePairPage:
    """Soft matches found when contacts were created, not yet merged (newest first)."""
    page = await dedupe.open_pairs(session, subject, PageRequest(limit=limit, cursor=cursor))
    return DuplicatePairPage(
        items=[DuplicatePairOut.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post("/dedupe/check", response_model=list[DuplicateOut])
async def check_duplicates(
    body: DedupeCheckIn, session: DbSession, subject: ContactsRead
) -> list[DuplicateOut]:
    """Blocking and soft matches for a contact being typed, best first."""
    candidate = Candidate(
        first_name=body.first_name,
        last_name=body.last_name,
        emails=body.emails,
        phones=body.phones,
        company_id=body.company_id,
        exclude_id=body.exclude_id,
    )
    matches = await dedupe.check(session, subject, candidate)
    return [
        DuplicateOut(
            contact_id=m.contact.id,
            full_name=m.contact.full_name,
            reason=m.reason,
            score=m.score,
            blocking=m.blocking,
        )
        for m in matches
    ]


@router.post("/merge", response_model=ContactOut, responses=error_responses(NotFound, Conflict))
async def merge_contacts(body: MergeIn, session: DbSession, subject: ContactsMerge) -> ContactOut:
    """Keeps `target_id`; the source becomes a tombstone pointing at it. 409 when either
    was merged already; 422 for the same id twice. Audited `contact.merged`."""
    kept = await merge_service.merge(
        session, subject, body.source_id, body.target_id, body.take_from_source
    )
    return contact_out(await contact_service.view(session, subject, kept))


@router.get("/{contact_id}", response_model=ContactOut, responses=error_responses(NotFound))
async def get_contact(contact_id: UUID, session: DbSession, subject: ContactsRead) -> ContactOut:
    found = await contact_service.get_readable(session, subject, contact_id)
    return contact_out(await contact_service.view(session, subject, found))


@router.patch(
    "/{contact_id}",
    response_model=ContactOut,
    responses=error_responses(NotFound, PlanRequired, Conflict),
)
async def update_contact(
    contact_id: UUID, body: ContactPatch, session: DbSession, subject: ContactsUpdate
) -> ContactOut:
    """Owner or admin only (403). Audited `contact.updated`."""
    changes = body.model_dump(exclude_unset=True, exclude={"custom_fields"})
    updated = await contact_service.update(
        session, subject, contact_id, changes, body.custom_fields
    )
    return contact_out(await contact_service.view(session, subject, updated))


@router.delete(
    "/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(NotFound)
)
async def delete_contact(contact_id: UUID, session: DbSession, subject: ContactsDelete) -> Response:
    """Tombstones the contact and frees its channels. Audited `contact.deleted`."""
    await contact_service.delete(session, subject, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
