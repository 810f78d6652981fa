"""Wiring of the contacts capability: navigation and global search."""

from __future__ import annotations

from m3crm.kernel.i18n import N_
from m3crm.kernel.web.middleware import allow_uploads
from m3crm.modules.contacts.api_imports import UPLOAD_PATH
from m3crm.modules.contacts.search import search_companies, search_contacts
from m3crm.modules.contacts.web_imports import UPLOAD_PAGE_PATH
from m3crm.modules.search.registry import SearchProvider, register_search_provider
from m3crm.web.nav import NavItem, register_nav


def register() -> None:
    allow_uploads(UPLOAD_PATH)
    allow_uploads(UPLOAD_PAGE_PATH)
    register_nav(NavItem("contacts", N_("Contacts"), "/contacts", "contact.read", order=30))
    register_nav(NavItem("companies", N_("Companies"), "/companies", "company.read", order=31))
    register_search_provider(
        SearchProvider("contacts", N_("Contacts"), "contact.read", search_contacts, order=20)
    )
    register_search_provider(
        SearchProvider("companies", N_("Companies"), "company.read", search_companies, order=21)
    )
