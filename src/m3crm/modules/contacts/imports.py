"""CSV import of contacts as an OperationRun: upload → mapping → preview → commit.

Rules:
- a malformed file is a 422 on `file` at upload (`csv_files`), never a 500;
- the mapping names existing columns and known fields, `first_name` included (422);
- preview checks every row (types, required fields, companies, blocking duplicates)
  and keeps a summary; `errors_csv` is the per-row report;
- commit queues the `contacts.import` run (permission `contact.create`); it answers
  409 while rows are invalid, unless `skip_duplicates` and duplicates are the only
  problem. The run checks everything again and writes every row or none.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, InvalidTransition, NotFound
from m3crm.kernel.i18n import N_
from m3crm.kernel.runs.models import OperationRun
from m3crm.kernel.runs.service import run as run_service
from m3crm.modules.contacts.csv_files import parse_csv
from m3crm.modules.contacts.import_rows import RowResult, check_mapping, check_rows, suggest_mapping
from m3crm.modules.contacts.models import ContactImport
from m3crm.modules.contacts.repository_imports import ImportRepository
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields

IMPORT_RUN = "contacts.import"
SHOWN_PROBLEMS = 50


def summarize(results: list[RowResult]) -> dict[str, Any]:
    problems = [r for r in results if not r.ok]
    only_duplicates = [r for r in problems if r.duplicate_of is not None and len(r.errors) == 1]
    return {
        "rows": len(results),
        "valid": len(results) - len(problems),
        "invalid": len(problems),
        "duplicates": len([r for r in problems if r.duplicate_of is not None]),
        "only_duplicates": len(only_duplicates),
        "problems": [
            {
                "line": r.line,
                "errors": r.errors,
                "duplicate_of": str(r.duplicate_of) if r.duplicate_of else None,
            }
            for r in problems[:SHOWN_PROBLEMS]
        ],
    }


class ImportService:
    async def upload(
        self, session: AsyncSession, subject: AuthSubject, filename: str, data: bytes
    ) -> ContactImport:
        parsed = parse_csv(data)
        defs = await custom_fields.list_defs(
            session, subject.tenant_id, EntityType.CONTACT, active_only=True
        )
        repo = ImportRepository(session, subject.tenant_id)
        upload = repo.add(
            ContactImport(
                filename=filename[:255] or "contacts.csv",
                content=data,
                delimiter=parsed.delimiter,
                columns=parsed.header,
                row_count=len(parsed.rows),
                mapping=suggest_mapping(parsed.header, defs),
                created_by_user_id=subject.user_id,
            )
        )
        await session.flush()
        await record(
            session, subject, "contact.import.uploaded", EntityRef("contact_import", upload.id),
            None, {"filename": upload.filename, "rows": upload.row_count},
        )  # fmt: skip
        return upload

    async def get(
        self, session: AsyncSession, subject: AuthSubject, import_id: UUID
    ) -> ContactImport:
        """Only the person who uploaded a file sees it (it holds their data): 404 for
        anyone else, as for another tenant's id."""
        upload = await ImportRepository(session, subject.tenant_id).get_or_404(import_id)
        if upload.created_by_user_id != subject.user_id:
            raise NotFound()
        return upload

    async def set_mapping(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        upload: ContactImport,
        mapping: dict[str, str],
    ) -> ContactImport:
        """Callers MUST have fetched `upload` with `get` (404 first)."""
        if upload.run_id is not None:
            raise InvalidTransition("contact_import", "importing", "changed")
        defs = await custom_fields.list_defs(session, subject.tenant_id, EntityType.CONTACT)
        check_mapping(mapping, upload.columns, defs)
        upload.mapping, upload.summary = mapping, None
        await session.flush()
        return upload

    async def check(
        self, session: AsyncSession, subject: AuthSubject, upload: ContactImport
    ) -> list[RowResult]:
        defs = await custom_fields.list_defs(session, subject.tenant_id, EntityType.CONTACT)
        check_mapping(upload.mapping, upload.columns, defs)
        parsed = parse_csv(upload.content, delimiter=upload.delimiter)
        return await check_rows(
            session, subject.tenant_id, parsed.header, parsed.rows, upload.mapping
        )

    async def preview(
        self, session: AsyncSession, subject: AuthSubject, import_id: UUID
    ) -> ContactImport:
        upload = await self._editable(session, subject, import_id)
        upload.summary = summarize(await self.check(session, subject, upload))
        await session.flush()
        return upload

    async def errors_csv(self, session: AsyncSession, subject: AuthSubject, import_id: UUID) -> str:
        """`line,column,message,duplicate_of` for every problem of every row."""
        upload = await self.get(session, subject, import_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "column", "message", "duplicate_of"])
        for result in await self.check(session, subject, upload):
            for column, message in result.errors.items():
                writer.writerow([result.line, column, message, result.duplicate_of or ""])
        return out.getvalue()

    async def commit(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        job_app: procrastinate.App,
        import_id: UUID,
        *,
        skip_duplicates: bool,
    ) -> OperationRun:
        upload = await self._editable(session, subject, import_id)
        if upload.summary is None:
            raise InvalidTransition("contact_import", "uploaded", "importing")
        invalid = upload.summary["invalid"] - (
            upload.summary["only_duplicates"] if skip_duplicates else 0
        )
        if invalid:
            raise Conflict(
                N_("Some rows are invalid; fix the file or skip the duplicates."),
                details={"invalid": invalid},
            )
        started = await run_service.dispatch(
            session, subject, job_app, IMPORT_RUN,
            {"import_id": str(upload.id), "skip_duplicates": skip_duplicates},
            permission="contact.create", dedupe_key=f"import:{upload.id}",
        )  # fmt: skip
        upload.run_id = started.id
        await session.flush()
        return started

    async def _editable(
        self, session: AsyncSession, subject: AuthSubject, import_id: UUID
    ) -> ContactImport:
        upload = await self.get(session, subject, import_id)
        if upload.run_id is not None:
            raise InvalidTransition("contact_import", "importing", "changed")
        return upload


imports = ImportService()
