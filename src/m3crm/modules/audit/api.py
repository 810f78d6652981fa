"""JSON API of the audit trail: `/v1/admin/audit-logs` (spec §18.7 viewer, §18.8 export)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from m3crm.kernel.auth import AuthSubject, DbSession, require
from m3crm.kernel.errors import (
    NotAuthenticated,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.pagination import CURSOR_PATTERN, MAX_LIMIT, PageRequest
from m3crm.modules.audit.repository import AuditFilters
from m3crm.modules.audit.schemas import (
    ACTION_PATTERN,
    ENTITY_PATTERN,
    AuditLogOut,
    AuditLogPage,
    UtcDatetime,
)
from m3crm.modules.audit.service import MEDIA_TYPES, ExportFormat, audit

AuditReader = Annotated[AuthSubject, Depends(require("audit.read"))]
AuditExporter = Annotated[AuthSubject, Depends(require("audit.export"))]

router = APIRouter(
    prefix="/v1/admin/audit-logs",
    tags=["audit"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


@dataclass(frozen=True, slots=True)
class FilterParams:
    """The query filters shared by the list and the export."""

    from_: Annotated[
        UtcDatetime | None,
        Query(alias="from", description="Occurred at or after (UTC if no offset)."),
    ] = None
    to: Annotated[
        UtcDatetime | None, Query(description="Occurred at or before (UTC if no offset).")
    ] = None
    actor_user_id: UUID | None = None
    action: Annotated[
        str | None,
        Query(pattern=ACTION_PATTERN, description="Exact action, or a prefix ending in `*`."),
    ] = None
    entity_type: Annotated[str | None, Query(pattern=ENTITY_PATTERN)] = None
    entity_id: Annotated[str | None, Query(pattern=ENTITY_PATTERN)] = None

    def filters(self) -> AuditFilters:
        return AuditFilters(
            since=self.from_,
            until=self.to,
            actor_user_id=self.actor_user_id,
            action=self.action,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
        )


Filters = Annotated[FilterParams, Depends()]


@router.get("", response_model=AuditLogPage)
async def list_audit_logs(
    session: DbSession,
    subject: AuditReader,
    params: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> AuditLogPage:
    """Newest first; `next_cursor` continues where the page stopped."""
    page = await audit.list_logs(
        session, subject, params.filters(), PageRequest(limit=limit, cursor=cursor)
    )
    return AuditLogPage(
        items=[AuditLogOut.model_validate(row) for row in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The matching entries, newest first, as a file.",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export_audit_logs(
    session: DbSession,
    subject: AuditExporter,
    params: Filters,
    format: ExportFormat = "jsonl",
) -> StreamingResponse:
    """Streamed in chunks from a server-side cursor (constant memory at any size). The
    CSV has a header row; its `before_data` / `after_data` cells are JSON. The export is
    recorded in the trail as `audit.exported`."""
    filters = params.filters()
    body = await audit.export(session, subject, filters, format)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="audit-logs-{stamp}.{format}"',
            "Cache-Control": "no-store",
        },
    )
