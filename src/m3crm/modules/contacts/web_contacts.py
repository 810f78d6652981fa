"""Contact screens (Section 3 §8): list with filter chips and segments, profile with
channel badges and tabs, create and edit with custom fields.

The same service calls as the API. Every write is an htmx POST (the kernel refuses
cookie writes without `HX-Request`); a refused form comes back re-rendered (422) with
the message beside the field; success redirects with `HX-Redirect`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.pagination import SORT_CURSOR_PATTERN, PageRequest
from m3crm.modules.audit.repository import AuditFilters
from m3crm.modules.audit.service import audit as audit_service
from m3crm.modules.contacts.api_support import contact_sort
from m3crm.modules.contacts.auth import ContactsCreate, ContactsRead, ContactsUpdate
from m3crm.modules.contacts.contacts import ChannelInput, ContactInput, snapshot
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.models import ChannelType, Lifecycle, SegmentEntity
from m3crm.modules.contacts.policies import can_edit_contact
from m3crm.modules.contacts.repository import ContactFilters
from m3crm.modules.contacts.schemas import ContactCreate, ContactPatch
from m3crm.modules.contacts.segments import segment as segment_service
from m3crm.modules.contacts.web_followers import followers_context
from m3crm.modules.contacts.web_support import (
    CHANNEL_LABELS,
    LIFECYCLE_LABELS,
    custom_values,
    field_errors,
    parse_form,
    pickers,
)
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.web.templating import render

router = APIRouter(prefix="/contacts", include_in_schema=False)

PAGE_SIZE = 50
Text = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$")]


@router.get("", response_class=HTMLResponse)
async def contacts_page(
    request: Request,
    session: DbSession,
    subject: ContactsRead,
    q: Text = None,
    lifecycle: Lifecycle | None = None,
    mine: bool = False,
    verified: bool = False,
    segment: UUID | None = None,
    cursor: Annotated[str | None, Query(pattern=SORT_CURSOR_PATTERN)] = None,
) -> HTMLResponse:
    """The whole page, or only the table for htmx requests (search as you type)."""
    request.state.locale = subject.user.locale
    condition = None
    if segment is not None:
        saved = await segment_service.find(session, subject, segment, SegmentEntity.CONTACT)
        condition = await segment_service.condition(
            session, subject, SegmentEntity.CONTACT, saved.definition
        )
    filters = ContactFilters(
        owner_user_id=subject.user_id if mine else None,
        lifecycle=lifecycle,
        verified=True if verified else None,
        q=q or None,
        segment=condition,
    )
    page = await contact_service.list_page(
        session,
        subject,
        filters,
        PageRequest(limit=PAGE_SIZE, cursor=cursor),
        contact_sort("-created"),
    )
    state = {
        "q": q or None,
        "lifecycle": lifecycle.value if lifecycle else None,
        "mine": "true" if mine else None,
        "verified": "true" if verified else None,
        "segment": str(segment) if segment else None,
    }

    def url_with(**changes: Any) -> str:
        """This list's URL with some parameters changed (`None`/`False` drops one)."""
        merged = {**state, **{k: ("true" if v is True else v or None) for k, v in changes.items()}}
        return "/contacts?" + urlencode({k: v for k, v in merged.items() if v})

    exported = {
        "owner": str(subject.user_id) if mine else None,
        "lifecycle": state["lifecycle"],
        "verified": state["verified"],
        "segment": state["segment"],
        "q": state["q"],
    }
    context = {
        "page": page,
        "url_with": url_with,
        "export_url": "/v1/contacts/export?"
        + urlencode({"format": "csv", **{k: v for k, v in exported.items() if v}})
        if subject.can("reports.export")
        else None,
        "q": q or "",
        "lifecycle": lifecycle,
        "mine": mine,
        "verified": verified,
        "segment": segment,
        "segments": await segment_service.list(session, subject, SegmentEntity.CONTACT),
        "lifecycles": LIFECYCLE_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "can_create": subject.can("contact.create"),
        "can_save_segment": subject.can("contact.update"),
    }
    template = (
        "contacts/_table.html"
        if request.headers.get("hx-target") == "contacts-table"
        else "contacts/index.html"
    )
    return render(request, template, context)


async def _form_context(
    session: DbSession, subject: AuthSubject, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.CONTACT, active_only=True
    )
    return {"values": values, "errors": errors, "defs": defs, **await pickers(session, subject)}


@router.get("/new", response_class=HTMLResponse)
async def new_contact_page(
    request: Request, session: DbSession, subject: ContactsCreate
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    values = {"lifecycle_stage": "lead", "owner_user_id": str(subject.user_id), "custom": {}}
    context = await _form_context(session, subject, values, {})
    return render(request, "contacts/form.html", {**context, "contact": None})


OPTIONAL_FIELDS = ("job_title", "company_id", "owner_user_id")


def _form_values(form: Any) -> dict[str, Any]:
    names = ("first_name", "last_name", "job_title", "lifecycle_stage", "company_id",
             "owner_user_id", "email", "phone", "whatsapp")  # fmt: skip
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in names}
    values["is_private"] = "is_private" in form
    return values


def _channel_field(key: str, kinds: list[ChannelType]) -> str:
    """`channels.<i>.value` (the service's name) → the form's `email` / `phone` / ..."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "channels" and parts[1].isdigit():
        return kinds[int(parts[1])].value
    return key


@router.post("", response_class=HTMLResponse)
async def create_contact(request: Request, session: DbSession, subject: ContactsCreate) -> Response:
    request.state.locale = subject.user.locale
    form = await request.form()
    values = _form_values(form)
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.CONTACT, active_only=True
    )
    custom = custom_values(form, defs, creating=True)
    kinds = [kind for kind in ChannelType if values[kind.value]]
    try:
        body = parse_form(
            ContactCreate,
            {
                **{name: values[name] or None for name in OPTIONAL_FIELDS},
                "first_name": values["first_name"],
                "last_name": values["last_name"],
                "lifecycle_stage": values["lifecycle_stage"],
                "is_private": values["is_private"],
                "channels": [{"type": kind.value, "value": values[kind.value]} for kind in kinds],
            },
        )
        data = ContactInput(
            first_name=body.first_name,
            last_name=body.last_name,
            job_title=body.job_title,
            company_id=body.company_id,
            owner_user_id=body.owner_user_id,
            lifecycle_stage=body.lifecycle_stage,
            is_private=body.is_private,
            channels=[ChannelInput(c.type, c.value) for c in body.channels],
            custom_fields=custom,
        )
        created = await contact_service.create(session, subject, data)
    except ValidationFailed as invalid:
        errors = {
            _channel_field(key, kinds): message for key, message in field_errors(invalid).items()
        }
        context = await _form_context(session, subject, {**values, "custom": custom}, errors)
        return render(request, "contacts/_form.html", {**context, "contact": None}, status_code=422)
    return Response(status_code=204, headers={"HX-Redirect": f"/contacts/{created.id}"})


@router.get("/{contact_id}", response_class=HTMLResponse)
async def contact_profile(
    request: Request, contact_id: UUID, session: DbSession, subject: ContactsRead
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    found = await contact_service.get_readable(session, subject, contact_id)
    view = await contact_service.view(session, subject, found)
    timeline = await audit_service.list_logs(
        session,
        subject,
        AuditFilters(entity_type="contact", entity_id=str(found.id)),
        PageRequest(limit=50),
    )
    pick = await pickers(session, subject)
    defs = await custom_fields.list_defs(session, subject.tenant_id, EntityType.CONTACT)
    context = {
        "view": view,
        "timeline": timeline.items,
        "actors": await audit_service.actor_names(session, subject, timeline.items),
        "people": dict(pick["people"]),
        "companies": dict(pick["companies"]),
        "defs": defs,
        "lifecycles": LIFECYCLE_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "can_edit": subject.can("contact.update") and can_edit_contact(subject, found),
        "can_merge": subject.can("contact.merge"),
        "can_consent": subject.can("contact.consent.manage"),
        "errors": {},
        "error": None,
        "notice": None,
        "pending": None,
        **await followers_context(session, subject, found),
    }
    return render(request, "contacts/profile.html", context)


@router.get("/{contact_id}/edit", response_class=HTMLResponse)
async def edit_contact_page(
    request: Request, contact_id: UUID, session: DbSession, subject: ContactsUpdate
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    found = await contact_service.get_for_update(session, subject, contact_id)
    view = await contact_service.view(session, subject, found)
    values: dict[str, Any] = {k: "" if v is None else str(v) for k, v in snapshot(found).items()}
    values["is_private"] = found.is_private
    values["custom"] = view.custom_fields
    context = await _form_context(session, subject, values, {})
    return render(request, "contacts/form.html", {**context, "contact": found})


@router.post("/{contact_id}", response_class=HTMLResponse)
async def update_contact(
    request: Request, contact_id: UUID, session: DbSession, subject: ContactsUpdate
) -> Response:
    request.state.locale = subject.user.locale
    found = await contact_service.get_for_update(session, subject, contact_id)
    form = await request.form()
    values = _form_values(form)
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.CONTACT, active_only=True
    )
    custom = custom_values(form, defs, creating=False)
    try:
        patch = parse_form(
            ContactPatch,
            {
                **{name: values[name] or None for name in OPTIONAL_FIELDS},
                "first_name": values["first_name"] or None,
                "last_name": values["last_name"],
                "lifecycle_stage": values["lifecycle_stage"] or None,
                "is_private": values["is_private"],
            },
        )
        changes = patch.model_dump(exclude={"custom_fields", "source"})
        await contact_service.update(session, subject, found.id, changes, custom)
    except ValidationFailed as invalid:
        context = await _form_context(
            session, subject, {**values, "custom": custom}, field_errors(invalid)
        )
        return render(
            request, "contacts/_form.html", {**context, "contact": found}, status_code=422
        )
    return Response(status_code=204, headers={"HX-Redirect": f"/contacts/{found.id}"})
