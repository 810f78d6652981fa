"""Duplicate detection (Section 3 §6; DECISIONS §3.4).

Blocking matches (an identical e-mail, or an identical E.164 number on a phone or
WhatsApp channel) are refused at write time by `channels.ensure_free`. `check` lists
them together with the soft matches a person should look at, best first:

| reason                | when                                                      | score |
|-----------------------|-----------------------------------------------------------|-------|
| `email`, `phone`      | identical normalised value (blocking)                     | 1.0   |
| `name_company_domain` | same folded name, and the company domain matches          | 0.9   |
| `name_phone_partial`  | same folded name, and the last 7 digits of a phone match  | 0.85  |
| `name`                | same folded name (Arabic spelling variants compare equal) | 0.6   |
| `phone_partial`       | the last 7 digits of a phone match                        | 0.5   |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.pagination import Page, PageRequest
from m3crm.kernel.text import fold
from m3crm.modules.contacts.channels import normalize
from m3crm.modules.contacts.models import ChannelType, Contact, ContactDuplicate
from m3crm.modules.contacts.policies import viewer
from m3crm.modules.contacts.repository import (
    PHONE_TYPES,
    ChannelRepository,
    ContactRepository,
    digits_of,
)
from m3crm.modules.contacts.repository_companies import CompanyRepository
from m3crm.modules.contacts.repository_duplicates import DuplicateRepository

PARTIAL_DIGITS = 7
SCORES = {
    "email": 1.0,
    "phone": 1.0,
    "name_company_domain": 0.9,
    "name_phone_partial": 0.85,
    "name": 0.6,
    "phone_partial": 0.5,
}
BLOCKING = frozenset({"email", "phone"})


@dataclass(frozen=True, slots=True)
class Candidate:
    first_name: str = ""
    last_name: str = ""
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()
    company_id: UUID | None = None
    exclude_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Match:
    contact: Contact
    reason: str
    score: float

    @property
    def blocking(self) -> bool:
        return self.reason in BLOCKING


def _normalized(kind: ChannelType, values: Sequence[str], field: str) -> list[str]:
    """Values that do not parse are skipped: a check previews, it does not validate."""
    found = []
    for value in values:
        try:
            found.append(normalize(kind, value, field=field))
        except ValidationFailed:
            continue
    return found


class DedupeService:
    async def check(
        self, session: AsyncSession, subject: AuthSubject, candidate: Candidate
    ) -> list[Match]:
        tid = subject.tenant_id
        seen = await viewer(session, subject)
        contacts = ContactRepository(session, tid)
        emails = _normalized(ChannelType.EMAIL, candidate.emails, "emails")
        phones = _normalized(ChannelType.PHONE, candidate.phones, "phones")
        reasons: dict[UUID, str] = {}

        def note(contact_id: UUID, reason: str) -> None:
            if contact_id == candidate.exclude_id:
                return
            if SCORES[reason] > SCORES.get(reasons.get(contact_id, ""), 0.0):
                reasons[contact_id] = reason

        channel_repo = ChannelRepository(session, tid)
        for holder in await channel_repo.holders((ChannelType.EMAIL,), emails):
            note(holder.contact_id, "email")
        for holder in await channel_repo.holders(PHONE_TYPES, phones):
            note(holder.contact_id, "phone")

        folded = fold(f"{candidate.first_name} {candidate.last_name}".strip())
        named = (
            await contacts.same_names(seen, folded, excluding=candidate.exclude_id)
            if folded
            else []
        )
        partial_holders: set[UUID] = set()
        for phone in phones or [p for p in candidate.phones if len(digits_of(p)) >= PARTIAL_DIGITS]:
            suffix = digits_of(phone)[-PARTIAL_DIGITS:]
            if len(suffix) == PARTIAL_DIGITS:
                for found in await contacts.with_phone_suffix(
                    seen, suffix, excluding=candidate.exclude_id
                ):
                    partial_holders.add(found.id)
                    note(found.id, "phone_partial")
        domains = await self._domains(session, subject, candidate, emails)
        company_domains = await self._company_domains(session, subject, named)
        for found in named:
            if found.id in partial_holders:
                note(found.id, "name_phone_partial")
            elif domains and company_domains.get(found.id) in domains:
                note(found.id, "name_company_domain")
            else:
                note(found.id, "name")
        rows = {c.id: c for c in await contacts.by_ids(seen, list(reasons))}
        matches = [Match(rows[i], r, SCORES[r]) for i, r in reasons.items() if i in rows]
        return sorted(matches, key=lambda m: (-m.score, str(m.contact.id)))

    async def _domains(
        self, session: AsyncSession, subject: AuthSubject, candidate: Candidate, emails: list[str]
    ) -> set[str]:
        """The candidate's company domain and its e-mail domains."""
        domains = {e.rsplit("@", 1)[1] for e in emails}
        if candidate.company_id is not None:
            company = await CompanyRepository(session, subject.tenant_id).get_live(
                candidate.company_id
            )
            if company is not None and company.domain:
                domains.add(company.domain)
        return domains

    async def _company_domains(
        self, session: AsyncSession, subject: AuthSubject, contacts: list[Contact]
    ) -> dict[UUID, str | None]:
        ids = [c.company_id for c in contacts if c.company_id is not None]
        companies = {
            c.id: c.domain for c in await CompanyRepository(session, subject.tenant_id).by_ids(ids)
        }
        return {c.id: companies.get(c.company_id) if c.company_id else None for c in contacts}

    async def open_pairs(
        self, session: AsyncSession, subject: AuthSubject, page: PageRequest
    ) -> Page[ContactDuplicate]:
        return await DuplicateRepository(session, subject.tenant_id).open_page(page)


dedupe = DedupeService()
