"""Company links of a contact (Section 3 §2 "primary + secondary links").

The contact's `company_id` is its primary company and always has a primary link; other
links are secondary. Removing the primary link clears `company_id`. Callers MUST have
fetched the contact with `get_for_update` (404, then 403).
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, NotFound
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.contacts import resolve_company
from m3crm.modules.contacts.models import Contact, ContactLink, LinkRelation
from m3crm.modules.contacts.repository import LinkRepository


class LinkService:
    async def list(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact
    ) -> list[ContactLink]:
        return await LinkRepository(session, subject.tenant_id).of_contact(contact.id)

    async def add(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        contact: Contact,
        company_id: UUID,
        relation: LinkRelation,
    ) -> ContactLink:
        """A company of another tenant is 422 on `company_id`; an existing link 409."""
        await resolve_company(session, subject, company_id)
        repo = LinkRepository(session, subject.tenant_id)
        if await repo.find(contact.id, company_id) is not None:
            raise Conflict(N_("This contact is already linked to this company."))
        link = repo.add(ContactLink(contact_id=contact.id, company_id=company_id, relation=relation,
                                    is_primary=False))  # fmt: skip
        await session.flush()
        await record(
            session, subject, "contact.link.added", EntityRef("contact", contact.id), None,
            {"company_id": str(company_id), "relation": relation.value},
        )  # fmt: skip
        return link

    async def remove(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact, link_id: UUID
    ) -> None:
        repo = LinkRepository(session, subject.tenant_id)
        link = await repo.get(link_id)
        if link is None or link.contact_id != contact.id:
            raise NotFound()
        if link.is_primary:
            contact.company_id = None
        await session.delete(link)
        await session.flush()
        await record(
            session, subject, "contact.link.removed", EntityRef("contact", contact.id),
            {"company_id": str(link.company_id), "relation": link.relation.value},
        )  # fmt: skip


links = LinkService()
