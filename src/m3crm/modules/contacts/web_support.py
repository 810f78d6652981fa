"""What the contacts pages share: labels, form parsing, and the pickers' choices."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import PageRequest, Sort
from m3crm.modules.audit.service import audit as audit_service
from m3crm.modules.contacts.companies import company as company_service
from m3crm.modules.contacts.models import Company, Lifecycle
from m3crm.modules.contacts.repository_companies import CompanyFilters
from m3crm.modules.customfields.models import CustomFieldDef, FieldType
from m3crm.modules.customfields.values import from_text

LIFECYCLE_LABELS = {
    Lifecycle.LEAD: N_("Lead"),
    Lifecycle.PROSPECT: N_("Prospect"),
    Lifecycle.CUSTOMER: N_("Customer"),
    Lifecycle.INACTIVE: N_("Inactive"),
    Lifecycle.LOST: N_("Lost"),
}
CHANNEL_LABELS = {"email": N_("E-mail"), "phone": N_("Phone"), "whatsapp": N_("WhatsApp")}
PICKER_SIZE = 200


M = TypeVar("M", bound=BaseModel)


def parse_form(model: type[M], data: dict[str, Any]) -> M:
    """Form values through the API's own body schema (lengths, patterns, enums, ids), so
    both surfaces accept exactly the same input; a refusal is 422 on the field's path."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        errors = {
            ".".join(str(part) for part in error["loc"]) or "form": N_("This value is not valid.")
            for error in exc.errors()
        }
        raise ValidationFailed(errors) from None


def field_errors(error: ValidationFailed) -> dict[str, str]:
    fields: dict[str, str] = error.details.get("fields", {})
    return fields


def custom_values(form: FormData, defs: list[CustomFieldDef], *, creating: bool) -> dict[str, Any]:
    """`cf.<code>` form fields → values; a blank field is "no value" (left out on create)."""
    values: dict[str, Any] = {}
    for defn in defs:
        if not defn.active:
            continue
        name = f"cf.{defn.code}"
        if defn.type is FieldType.MULTISELECT:
            raw_list = [str(v) for v in form.getlist(name) if str(v)]
            if raw_list or not creating:
                values[defn.code] = raw_list or None
            continue
        if defn.type is FieldType.BOOL:
            values[defn.code] = name in form
            continue
        raw = str(form.get(name) or "").strip()
        if raw:
            values[defn.code] = from_text(defn, raw)
        elif not creating:
            values[defn.code] = None
    return values


async def pickers(session: AsyncSession, subject: AuthSubject) -> dict[str, Any]:
    """Owners and companies for the form's selects (companies by name, first 200)."""
    companies = await company_service.list_page(
        session,
        subject,
        CompanyFilters(),
        PageRequest(limit=PICKER_SIZE),
        Sort(Company.search_name, descending=False),
    )
    return {
        "people": await audit_service.people(session, subject),
        "companies": [(v.company.id, v.company.name) for v in companies.items],
        "lifecycles": LIFECYCLE_LABELS,
    }
