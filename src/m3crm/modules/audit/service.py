"""Reading and exporting the audit trail (spec §18.4, §18.7, §18.8).

The trail is written by `kernel.audit.record`; this module only reads it. An export is
itself audited (`audit.exported`, with its format and filters) in the request's
transaction, before the first byte is sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog, EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import Page, PageRequest
from m3crm.modules.audit.repository import EXPORT_COLUMNS, AuditFilters, AuditLogRepository
from m3crm.web.nav import NavItem, register_nav

ExportFormat = Literal["jsonl", "csv"]

MEDIA_TYPES: dict[str, str] = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}


class AuditService:
    async def list_logs(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        filters: AuditFilters,
        page: PageRequest,
    ) -> Page[AuditLog]:
        return await AuditLogRepository(session, subject.tenant_id).page(filters, page)

    async def get(self, session: AsyncSession, subject: AuthSubject, log_id: UUID) -> AuditLog:
        return await AuditLogRepository(session, subject.tenant_id).get_or_404(log_id)

    async def actor_names(
        self, session: AsyncSession, subject: AuthSubject, rows: Sequence[AuditLog]
    ) -> dict[UUID, str]:
        ids = {row.actor_user_id for row in rows if row.actor_user_id is not None}
        return await AuditLogRepository(session, subject.tenant_id).actor_names(ids)

    async def people(self, session: AsyncSession, subject: AuthSubject) -> list[tuple[UUID, str]]:
        return await AuditLogRepository(session, subject.tenant_id).people()

    async def export(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        filters: AuditFilters,
        fmt: ExportFormat,
        *,
        chunk_size: int = 1000,
    ) -> AsyncIterator[str]:
        """Audit the export now, then return the body as an async iterator of text
        chunks. The caller MUST consume the iterator while `session`'s transaction is
        open (a `StreamingResponse` over the request's session does)."""
        await record(
            session,
            subject,
            "audit.exported",
            EntityRef("audit_logs", None),
            after={"format": fmt, "filters": filters.as_dict()},
        )
        repo = AuditLogRepository(session, subject.tenant_id)
        encode = _jsonl_chunk if fmt == "jsonl" else _csv_chunk

        async def body() -> AsyncIterator[str]:
            if fmt == "csv":
                yield _csv_lines([list(EXPORT_COLUMNS)])
            async for rows in repo.stream(filters, chunk_size=chunk_size):
                yield encode(rows)

        return body()


def _text(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _jsonl_chunk(rows: Sequence[Sequence[Any]]) -> str:
    return "".join(
        json.dumps(
            {name: _text(value) for name, value in zip(EXPORT_COLUMNS, row, strict=True)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
        for row in rows
    )


def _csv_cell(name: str, value: Any) -> Any:
    if name in ("before_data", "after_data"):
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else _text(value)


def _csv_lines(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> str:
    return _csv_lines(
        [
            [_csv_cell(name, value) for name, value in zip(EXPORT_COLUMNS, row, strict=True)]
            for row in rows
        ]
    )


audit = AuditService()


def register() -> None:
    """The audit viewer in the main navigation."""
    register_nav(
        NavItem(
            "audit",
            N_("Audit trail"),
            "/admin/audit",
            "audit.read",
            icon="clipboard",
            section="admin",
            order=95,
        )
    )
