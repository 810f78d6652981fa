"""Export of a filtered contact list as CSV or XLSX (Section 3 §8 list screen).

The export is audited (`contact.exported`, with format, filters and count) before it is
built; it holds at most `MAX_ROWS` contacts (422 on `limit` beyond, so a person narrows
the filter rather than receiving a silently cut file). Cells that a spreadsheet would
run as a formula (`=`, `+`, `-`, `@`) are prefixed with `'`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, Literal

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import MAX_LIMIT, PageRequest, Sort
from m3crm.modules.contacts.contacts import ContactView
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.models import ChannelType
from m3crm.modules.contacts.repository import ContactFilters
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields

ExportFormat = Literal["csv", "xlsx"]
MAX_ROWS = 100_000
STANDARD = ("id", "first_name", "last_name", "job_title", "lifecycle_stage", "owner_user_id",
            "company_id", "email", "phone", "whatsapp", "source", "created_at")  # fmt: skip
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _primary(view: ContactView, kind: ChannelType) -> str | None:
    found = [c for c in view.channels if c.type is kind]
    found.sort(key=lambda c: not c.is_primary)
    return found[0].normalized_value if found else None


def _row(view: ContactView, codes: list[str]) -> list[str]:
    c = view.contact
    values: list[Any] = [
        c.id, c.first_name, c.last_name, c.job_title, c.lifecycle_stage.value, c.owner_user_id,
        c.company_id, _primary(view, ChannelType.EMAIL), _primary(view, ChannelType.PHONE),
        _primary(view, ChannelType.WHATSAPP), c.source, c.created_at.isoformat(),
    ]  # fmt: skip
    custom = view.custom_fields
    values += [
        "|".join(custom[k]) if isinstance(custom.get(k), list) else custom.get(k) for k in codes
    ]
    return [safe_cell(v) for v in values]


def _csv(rows: Iterator[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows: Iterator[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Contacts")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ExportService:
    async def export(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        filters: ContactFilters,
        sort: Sort,
        fmt: ExportFormat,
    ) -> bytes:
        total = await contact_service.count(session, subject, filters)
        if total > MAX_ROWS:
            raise ValidationFailed({"limit": N_("Too many contacts to export; narrow the filter.")})
        audited = {
            k: str(v) for k, v in asdict(filters).items() if v is not None and k != "segment"
        }
        await record(
            session, subject, "contact.exported", EntityRef("contact", None), None,
            {"format": fmt, "filters": audited, "count": total},
        )  # fmt: skip
        defs = await custom_fields.list_defs(session, subject.tenant_id, EntityType.CONTACT)
        codes = [d.code for d in defs]
        rows: list[list[str]] = [[*STANDARD, *(f"cf.{c}" for c in codes)]]
        cursor: str | None = None
        while True:
            page = await contact_service.list_page(
                session, subject, filters, PageRequest(limit=MAX_LIMIT, cursor=cursor), sort
            )
            rows += [_row(view, codes) for view in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        return _csv(iter(rows)) if fmt == "csv" else _xlsx(iter(rows))


export = ExportService()
