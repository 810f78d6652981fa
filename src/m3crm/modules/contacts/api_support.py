"""Shapes shared by the contacts and companies routers: sort orders, answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import InstrumentedAttribute

from m3crm.kernel.pagination import Sort
from m3crm.modules.contacts.companies import CompanyView
from m3crm.modules.contacts.contacts import ContactView
from m3crm.modules.contacts.models import Company, Contact
from m3crm.modules.contacts.schemas import ChannelOut, CompanyOut, ContactOut

SortParam = Literal["-created", "created", "name", "-name", "-updated", "updated"]


def _sort(
    param: SortParam, name: InstrumentedAttribute[str], updated: InstrumentedAttribute[datetime]
) -> Sort:
    descending = param.startswith("-")
    key = param.lstrip("-")
    if key == "name":
        return Sort(name, descending=descending)
    if key == "updated":
        return Sort(updated, descending=descending, temporal=True)
    return Sort(None, descending=descending)


def contact_sort(param: SortParam) -> Sort:
    return _sort(param, Contact.search_name, Contact.updated_at)


def company_sort(param: SortParam) -> Sort:
    return _sort(param, Company.search_name, Company.updated_at)


def contact_out(view: ContactView) -> ContactOut:
    c = view.contact
    return ContactOut(
        id=c.id,
        first_name=c.first_name,
        last_name=c.last_name,
        full_name=c.full_name,
        job_title=c.job_title,
        company_id=c.company_id,
        owner_user_id=c.owner_user_id,
        lifecycle_stage=c.lifecycle_stage,
        is_private=c.is_private,
        source=c.source,
        created_at=c.created_at,
        updated_at=c.updated_at,
        channels=[ChannelOut.model_validate(ch) for ch in view.channels],
        custom_fields=view.custom_fields,
    )


def company_out(view: CompanyView) -> CompanyOut:
    c = view.company
    return CompanyOut(
        id=c.id,
        name=c.name,
        domain=c.domain,
        phone_e164=c.phone_e164,
        country=c.country,
        city=c.city,
        address=c.address,
        status=c.status,
        owner_user_id=c.owner_user_id,
        created_at=c.created_at,
        updated_at=c.updated_at,
        custom_fields=view.custom_fields,
    )
