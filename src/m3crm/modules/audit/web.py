"""Audit viewer `/admin/audit` (spec §18.7): the same service calls as the API, as pages."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession, require
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import CURSOR_PATTERN, PageRequest
from m3crm.modules.audit.repository import AuditFilters
from m3crm.modules.audit.schemas import ACTION_PATTERN, ENTITY_PATTERN, as_utc
from m3crm.modules.audit.service import audit
from m3crm.web.templating import render

router = APIRouter(prefix="/admin/audit", include_in_schema=False)

AuditReader = Annotated[AuthSubject, Depends(require("audit.read"))]

FILTER_FIELDS = ("from", "to", "actor_user_id", "action", "entity_type", "entity_id")


def parse_filters(raw: dict[str, str]) -> tuple[AuditFilters, dict[str, str]]:
    """Form values (blank = unset) → filters, plus a message per invalid field; an
    invalid field is left out of the filters so the page still shows a result."""
    errors: dict[str, str] = {}

    def when(name: str) -> datetime | None:
        value = raw.get(name, "").strip()
        if not value:
            return None
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            errors[name] = N_("Enter a date and time.")
            return None

    def matching(name: str, pattern: str, message: str) -> str | None:
        value = raw.get(name, "").strip()
        if not value:
            return None
        if re.fullmatch(pattern, value) is None:
            errors[name] = message
            return None
        return value

    actor: UUID | None = None
    if actor_raw := raw.get("actor_user_id", "").strip():
        try:
            actor = UUID(actor_raw)
        except ValueError:
            errors["actor_user_id"] = N_("Choose a person from the list.")
    filters = AuditFilters(
        since=when("from"),
        until=when("to"),
        actor_user_id=actor,
        action=matching(
            "action",
            ACTION_PATTERN,
            N_("Use letters, digits, dots or dashes; end with * to match the beginning."),
        ),
        entity_type=matching(
            "entity_type", ENTITY_PATTERN, N_("Use letters, digits, dots or dashes.")
        ),
        entity_id=matching("entity_id", ENTITY_PATTERN, N_("Use letters, digits, dots or dashes.")),
    )
    return filters, errors


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def diff_rows(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, str | None, str | None]]:
    """(field, before, after) for every field of either side; `None` = absent."""
    before, after = before or {}, after or {}
    keys = sorted(before.keys() | after.keys())
    return [
        (
            key,
            _pretty(before[key]) if key in before else None,
            _pretty(after[key]) if key in after else None,
        )
        for key in keys
    ]


@router.get("", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    session: DbSession,
    subject: AuditReader,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    raw = {name: request.query_params.get(name, "") for name in FILTER_FIELDS}
    filters, errors = parse_filters(raw)
    page = await audit.list_logs(session, subject, filters, PageRequest(limit=50, cursor=cursor))
    query = {k: v for k, v in raw.items() if v and k not in errors}
    return render(
        request,
        "audit/index.html",
        {
            "page": page,
            "values": raw,
            "errors": errors,
            "names": await audit.actor_names(session, subject, page.items),
            "people": await audit.people(session, subject),
            "can_export": subject.can("audit.export"),
            "query": urlencode(query),
            "export_url": lambda fmt: (
                "/v1/admin/audit-logs/export?" + urlencode({**query, "format": fmt})
            ),
        },
    )


@router.get("/{log_id}", response_class=HTMLResponse)
async def audit_detail(
    request: Request, log_id: UUID, session: DbSession, subject: AuditReader
) -> HTMLResponse:
    """HTMX: one entry's before/after, side by side (another tenant's id is a 404)."""
    request.state.locale = subject.user.locale
    entry = await audit.get(session, subject, log_id)
    names = await audit.actor_names(session, subject, [entry])
    return render(
        request,
        "audit/_detail.html",
        {
            "entry": entry,
            "actor": names.get(entry.actor_user_id) if entry.actor_user_id else None,
            "rows": diff_rows(entry.before_data, entry.after_data),
        },
    )
