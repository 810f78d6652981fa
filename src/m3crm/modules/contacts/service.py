"""Wiring of the contacts capability: navigation, global search, upload paths and the
live usage of its plan limits."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import Actor
from m3crm.kernel.entitlements import register_usage_source
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.ownership import OwnableType, register_ownable
from m3crm.kernel.visibility import register_record_type
from m3crm.kernel.web.middleware import allow_uploads
from m3crm.modules.contacts.api_imports import UPLOAD_PATH
from m3crm.modules.contacts.companies import COMPANIES_MAX, company
from m3crm.modules.contacts.contacts import CONTACTS_MAX, contact
from m3crm.modules.contacts.policies import COMPANY_TYPE, CONTACT_TYPE
from m3crm.modules.contacts.repository import ContactRepository
from m3crm.modules.contacts.repository_companies import CompanyRepository
from m3crm.modules.contacts.search import search_companies, search_contacts
from m3crm.modules.contacts.web_imports import UPLOAD_PAGE_PATH
from m3crm.modules.search.registry import SearchProvider, register_search_provider
from m3crm.web.commands import Command, register_command
from m3crm.web.nav import NavItem, register_nav


async def _contacts_in_use(session: AsyncSession, tenant_id: TenantId) -> int:
    return await ContactRepository(session, tenant_id).count_live()


async def _companies_in_use(session: AsyncSession, tenant_id: TenantId) -> int:
    return await CompanyRepository(session, tenant_id).count_live()


async def _contacts_owned(session: AsyncSession, tenant_id: TenantId, user_id: UUID) -> int:
    return await ContactRepository(session, tenant_id).count_owned(user_id)


async def _companies_owned(session: AsyncSession, tenant_id: TenantId, user_id: UUID) -> int:
    return await CompanyRepository(session, tenant_id).count_owned(user_id)


async def _move_contacts(session: AsyncSession, actor: Actor, source: UUID, target: UUID) -> int:
    return await contact.reassign_owner(session, actor, source, target)


async def _move_companies(session: AsyncSession, actor: Actor, source: UUID, target: UUID) -> int:
    return await company.reassign_owner(session, actor, source, target)


def register() -> None:
    register_ownable(OwnableType("contact", N_("Contacts"), _contacts_owned, _move_contacts))
    register_ownable(OwnableType("company", N_("Companies"), _companies_owned, _move_companies))
    register_usage_source(CONTACTS_MAX, _contacts_in_use)
    register_usage_source(COMPANIES_MAX, _companies_in_use)
    allow_uploads(UPLOAD_PATH)
    allow_uploads(UPLOAD_PAGE_PATH)
    register_record_type(CONTACT_TYPE, N_("Contacts"))
    register_record_type(COMPANY_TYPE, N_("Companies"))
    register_nav(
        NavItem("contacts", N_("Contacts"), "/contacts", "contact.read", icon="users", order=30)
    )
    register_nav(
        NavItem(
            "companies", N_("Companies"), "/companies", "company.read", icon="building", order=31
        )
    )
    for command in (
        Command("create.contact", N_("New contact"), "/contacts/new", "contact.create",
                "create", icon="user", order=10),
        Command("create.company", N_("New company"), "/companies/new", "company.create",
                "create", icon="building", order=20),
    ):  # fmt: skip
        register_command(command)
    register_search_provider(
        SearchProvider("contacts", N_("Contacts"), "contact.read", search_contacts, order=20)
    )
    register_search_provider(
        SearchProvider("companies", N_("Companies"), "company.read", search_companies, order=21)
    )
