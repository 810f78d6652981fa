"""Company screens (Section 3 §8 "Company Profile"): list, profile with its contacts,
create and edit. The same service calls as the API; writes are htmx POSTs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.pagination import SORT_CURSOR_PATTERN, PageRequest
from m3crm.modules.audit.repository import AuditFilters
from m3crm.modules.audit.service import audit as audit_service
from m3crm.modules.contacts.api_support import company_sort, contact_sort
from m3crm.modules.contacts.auth import CompaniesCreate, CompaniesRead, CompaniesUpdate
from m3crm.modules.contacts.companies import CompanyInput
from m3crm.modules.contacts.companies import company as company_service
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.policies import can_edit_company
from m3crm.modules.contacts.repository import ContactFilters
from m3crm.modules.contacts.repository_companies import CompanyFilters
from m3crm.modules.contacts.schemas import CompanyCreate, CompanyPatch
from m3crm.modules.contacts.web_support import (
    LIFECYCLE_LABELS,
    custom_values,
    field_errors,
    parse_form,
)
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.web.templating import render

router = APIRouter(prefix="/companies", include_in_schema=False)
FIELDS = ("name", "domain", "phone", "country", "city", "address")
Text = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$")]


@router.get("", response_class=HTMLResponse)
async def companies_page(
    request: Request,
    session: DbSession,
    subject: CompaniesRead,
    q: Text = None,
    cursor: Annotated[str | None, Query(pattern=SORT_CURSOR_PATTERN)] = None,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    page = await company_service.list_page(
        session, subject, CompanyFilters(q=q or None), PageRequest(limit=50, cursor=cursor),
        company_sort("name"),
    )  # fmt: skip
    context = {"page": page, "q": q or "", "can_create": subject.can("company.create")}
    return render(request, "contacts/companies.html", context)


async def _form_context(
    session: DbSession, subject: AuthSubject, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.COMPANY, active_only=True
    )
    return {"values": values, "errors": errors, "defs": defs}


@router.get("/new", response_class=HTMLResponse)
async def new_company_page(
    request: Request, session: DbSession, subject: CompaniesCreate
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    context = await _form_context(session, subject, {"custom": {}}, {})
    return render(request, "contacts/company_form.html", {**context, "company": None})


@router.post("", response_class=HTMLResponse)
async def create_company(
    request: Request, session: DbSession, subject: CompaniesCreate
) -> Response:
    request.state.locale = subject.user.locale
    form = await request.form()
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in FIELDS}
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.COMPANY, active_only=True
    )
    custom = custom_values(form, defs, creating=True)
    try:
        body = parse_form(
            CompanyCreate, {k: v or None for k, v in values.items()} | {"name": values["name"]}
        )
        data = CompanyInput(**body.model_dump(exclude={"custom_fields"}), custom_fields=custom)
        created = await company_service.create(session, subject, data)
    except ValidationFailed as invalid:
        context = await _form_context(
            session, subject, {**values, "custom": custom}, field_errors(invalid)
        )
        return render(
            request, "contacts/_company_form.html", {**context, "company": None}, status_code=422
        )
    return Response(status_code=204, headers={"HX-Redirect": f"/companies/{created.id}"})


@router.get("/{company_id}", response_class=HTMLResponse)
async def company_profile(
    request: Request, company_id: UUID, session: DbSession, subject: CompaniesRead
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    found = await company_service.get_readable(session, subject, company_id)
    view = (await company_service.views(session, subject, [found]))[0]
    contacts = await contact_service.list_page(
        session,
        subject,
        ContactFilters(company_id=found.id),
        PageRequest(limit=50),
        contact_sort("name"),
    )
    timeline = await audit_service.list_logs(
        session,
        subject,
        AuditFilters(entity_type="company", entity_id=str(found.id)),
        PageRequest(limit=50),
    )
    context = {
        "view": view,
        "contacts": contacts.items,
        "timeline": timeline.items,
        "defs": await custom_fields.list_defs(session, subject.tenant_id, EntityType.COMPANY),
        "lifecycles": LIFECYCLE_LABELS,
        "can_edit": subject.can("company.update") and can_edit_company(subject, found),
    }
    return render(request, "contacts/company.html", context)


@router.get("/{company_id}/edit", response_class=HTMLResponse)
async def edit_company_page(
    request: Request, company_id: UUID, session: DbSession, subject: CompaniesUpdate
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    found = await company_service.get_for_update(session, subject, company_id)
    view = (await company_service.views(session, subject, [found]))[0]
    values: dict[str, Any] = {name: getattr(found, name, None) or "" for name in FIELDS}
    values["phone"] = found.phone_e164 or ""
    values["custom"] = view.custom_fields
    context = await _form_context(session, subject, values, {})
    return render(request, "contacts/company_form.html", {**context, "company": found})


@router.post("/{company_id}", response_class=HTMLResponse)
async def update_company(
    request: Request, company_id: UUID, session: DbSession, subject: CompaniesUpdate
) -> Response:
    request.state.locale = subject.user.locale
    found = await company_service.get_for_update(session, subject, company_id)
    form = await request.form()
    values: dict[str, Any] = {name: str(form.get(name) or "").strip() for name in FIELDS}
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType.COMPANY, active_only=True
    )
    custom = custom_values(form, defs, creating=False)
    try:
        patch = parse_form(CompanyPatch, {k: v or None for k, v in values.items()})
        changes = patch.model_dump(include=set(FIELDS))
        await company_service.update(session, subject, found.id, changes, custom)
    except ValidationFailed as invalid:
        context = await _form_context(
            session, subject, {**values, "custom": custom}, field_errors(invalid)
        )
        return render(
            request, "contacts/_company_form.html", {**context, "company": found}, status_code=422
        )
    return Response(status_code=204, headers={"HX-Redirect": f"/companies/{found.id}"})
