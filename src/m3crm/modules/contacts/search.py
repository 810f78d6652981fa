"""Global search providers (`modules.search.registry`) for contacts and companies.

Queries arrive folded; matching is on the generated, folded name keys (first or last name
starting with the query), an e-mail prefix, or any suffix of a phone number's digits (at
least 3) — see `ContactRepository.search` for why these are prefix ranges.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.modules.contacts.policies import company_scope, viewer
from m3crm.modules.contacts.repository import ContactRepository
from m3crm.modules.contacts.repository_companies import CompanyRepository
from m3crm.modules.search.registry import SearchHit


async def search_contacts(
    session: AsyncSession, subject: AuthSubject, query: str, limit: int
) -> list[SearchHit]:
    found = await ContactRepository(session, subject.tenant_id).search(
        await viewer(session, subject), query, limit
    )
    return [
        SearchHit(
            id=str(c.id), title=c.full_name, subtitle=c.job_title or "", path=f"/contacts/{c.id}"
        )
        for c in found
    ]


async def search_companies(
    session: AsyncSession, subject: AuthSubject, query: str, limit: int
) -> list[SearchHit]:
    scope = await company_scope(session, subject)
    found = await CompanyRepository(session, subject.tenant_id, scope).search(query, limit)
    return [
        SearchHit(
            id=str(c.id), title=c.name, subtitle=c.domain or c.city or "", path=f"/companies/{c.id}"
        )
        for c in found
    ]
