"""The "Dictionaries" admin screen (§12): job titles and departments, the global
("Standard", read-only) entries and the organisation's own ones.

Same service calls as `/v1/admin/dictionaries`, same permission (`dictionaries.manage`)
and same body schemas, so both surfaces accept exactly the same input. Every write is an
htmx POST (the kernel refuses cookie writes without `HX-Request`):
- adding re-renders the panel (table and form); a refused form (422 field errors, 409
  code taken) comes back with the message beside its field;
- an own row is edited in place: the edit row posts, a 422 re-renders it with messages,
  success answers the display row;
- a global row or another organisation's id is 404; on a plan without
  `admin.customDictionaries` the form is replaced by an upgrade notice and writes are 402
  (raised by the service, rendered by the shared error handler).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from starlette.datastructures import FormData

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import Conflict, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.dictionaries.api import Manager
from m3crm.modules.dictionaries.models import DictionaryEntry
from m3crm.modules.dictionaries.schemas import EntryCreate, EntryPatch
from m3crm.modules.dictionaries.service import (
    DictionaryKind,
    EntryChanges,
    EntrySpec,
    dictionaries,
)
from m3crm.web.forms import field_errors, parse_form
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)
M = TypeVar("M", bound=BaseModel)

BASE = "/admin/dictionaries"
TABS: Mapping[DictionaryKind, str] = {
    DictionaryKind.JOB_TITLES: N_("Job titles"),
    DictionaryKind.DEPARTMENTS: N_("Departments"),
}
# What each form field needs, shown beside it when the schema refuses it.
FIELD_MESSAGES: Mapping[str, str] = {
    "code": N_("Use 2 to 40 lower-case letters, digits or underscores."),
    "label_en": N_("Enter a label of up to 200 characters."),
    "label_ar": N_("Enter a label of up to 200 characters."),
    "sort_order": N_("Enter a whole number from 0 to 100000."),
}
CREATE_FIELDS = ("code", "label_en", "label_ar", "sort_order")
EDIT_FIELDS = ("label_en", "label_ar", "sort_order")


def _kind(value: str) -> DictionaryKind:
    """The dictionary a URL names; an unknown one is 404, like a missing page."""
    try:
        return DictionaryKind(value)
    except ValueError:
        raise NotFound() from None


def _form_values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _parse(model: type[M], values: dict[str, str]) -> M:
    """Form values through the API's body schema; a blank sort order is left out (0 on
    create, unchanged on edit)."""
    data = {k: v for k, v in values.items() if k != "sort_order" or v}
    return parse_form(model, data, FIELD_MESSAGES)


async def _panel_context(
    session: DbSession,
    subject: AuthSubject,
    kind: DictionaryKind,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    added: str | None = None,
) -> dict[str, Any]:
    """The table (global and own entries, inactive included) and the add form's state."""
    return {
        "kind": kind,
        "base": f"{BASE}/{kind.value}",
        "entries": await dictionaries.list_entries(
            session, subject.tenant_id, kind, active_only=False
        ),
        "custom_allowed": await dictionaries.custom_allowed(session, subject.tenant_id),
        "values": values or {},
        "errors": errors or {},
        "added": added,
    }


def _row(
    request: Request,
    kind: DictionaryKind,
    entry: DictionaryEntry,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    editing: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    """One table row: the display row, or (`editing`) the in-place edit row."""
    template = "dictionaries/_edit_row.html" if editing else "dictionaries/_row.html"
    context = {
        "kind": kind,
        "base": f"{BASE}/{kind.value}",
        "entry": entry,
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, template, context, status_code=status_code)


@router.get(BASE, response_model=None)
async def dictionaries_home(subject: Manager) -> RedirectResponse:
    """The first dictionary; the same permission as the screen, so an anonymous visitor is
    sent to sign in and a member without it gets 403 here already."""
    return RedirectResponse(f"{BASE}/{DictionaryKind.JOB_TITLES.value}", status_code=303)


@router.get(BASE + "/{kind}", response_class=HTMLResponse)
async def dictionary_page(
    request: Request, kind: str, session: DbSession, subject: Manager
) -> HTMLResponse:
    chosen = _kind(kind)
    context = await _panel_context(session, subject, chosen)
    return render(request, "dictionaries/index.html", {**context, "tabs": TABS})


@router.post(BASE + "/{kind}", response_class=HTMLResponse)
async def add_entry(
    request: Request, kind: str, session: DbSession, subject: Manager
) -> HTMLResponse:
    """HTMX: the panel again, with the new row and an empty form; a refused form keeps
    what was typed (422 / 409 on the field). Without the plan feature: 402."""
    chosen = _kind(kind)
    values = _form_values(await request.form(), CREATE_FIELDS)
    try:
        body = _parse(EntryCreate, values)
        spec = EntrySpec(
            code=body.code,
            label_en=body.label_en,
            label_ar=body.label_ar,
            sort_order=body.sort_order,
        )
        entry = await dictionaries.create(session, subject, chosen, spec)
    except ValidationFailed as invalid:
        context = await _panel_context(
            session, subject, chosen, values=values, errors=field_errors(invalid)
        )
        return render(request, "dictionaries/_panel.html", context, status_code=422)
    except Conflict as taken:
        field = str(taken.details.get("field", "code"))
        context = await _panel_context(
            session, subject, chosen, values=values, errors={field: taken.message}
        )
        return render(request, "dictionaries/_panel.html", context, status_code=409)
    context = await _panel_context(session, subject, chosen, added=entry.code)
    return render(request, "dictionaries/_panel.html", context)


@router.get(BASE + "/{kind}/{entry_id}/edit", response_class=HTMLResponse)
async def edit_row(
    request: Request, kind: str, entry_id: UUID, session: DbSession, subject: Manager
) -> HTMLResponse:
    """HTMX: the edit row of an own entry (a global or foreign id is 404)."""
    chosen = _kind(kind)
    entry = await dictionaries.get_own(session, subject.tenant_id, chosen, entry_id)
    return _row(request, chosen, entry, editing=True)


@router.get(BASE + "/{kind}/{entry_id}", response_class=HTMLResponse)
async def show_row(
    request: Request, kind: str, entry_id: UUID, session: DbSession, subject: Manager
) -> HTMLResponse:
    """HTMX: the display row of an own entry (the edit row's "Cancel")."""
    chosen = _kind(kind)
    entry = await dictionaries.get_own(session, subject.tenant_id, chosen, entry_id)
    return _row(request, chosen, entry)


@router.post(BASE + "/{kind}/{entry_id}", response_class=HTMLResponse)
async def save_row(
    request: Request, kind: str, entry_id: UUID, session: DbSession, subject: Manager
) -> HTMLResponse:
    """HTMX: saves labels and sort order; a 422 re-renders the edit row with messages.
    The entry is fetched scoped first, so a foreign id is 404 before its input is read."""
    chosen = _kind(kind)
    entry = await dictionaries.get_own(session, subject.tenant_id, chosen, entry_id)
    values = _form_values(await request.form(), EDIT_FIELDS)
    try:
        body = _parse(EntryPatch, values)
    except ValidationFailed as invalid:
        return _row(
            request,
            chosen,
            entry,
            values=values,
            errors=field_errors(invalid),
            editing=True,
            status_code=422,
        )
    changes = EntryChanges(
        label_en=body.label_en, label_ar=body.label_ar, sort_order=body.sort_order
    )
    saved = await dictionaries.update(session, subject, chosen, entry_id, changes)
    return _row(request, chosen, saved)


@router.post(BASE + "/{kind}/{entry_id}/deactivate", response_class=HTMLResponse)
async def deactivate_row(
    request: Request, kind: str, entry_id: UUID, session: DbSession, subject: Manager
) -> HTMLResponse:
    """HTMX: deactivates an own entry (profiles keep its code); answers its row."""
    chosen = _kind(kind)
    entry = await dictionaries.deactivate(session, subject, chosen, entry_id)
    return _row(request, chosen, entry)


@router.post(BASE + "/{kind}/{entry_id}/reactivate", response_class=HTMLResponse)
async def reactivate_row(
    request: Request, kind: str, entry_id: UUID, session: DbSession, subject: Manager
) -> HTMLResponse:
    """HTMX: makes an own entry choosable again; answers its row."""
    chosen = _kind(kind)
    changes = EntryChanges(is_active=True)
    entry = await dictionaries.update(session, subject, chosen, entry_id, changes)
    return _row(request, chosen, entry)
