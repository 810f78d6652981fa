"""Companies: create, read, list, change, delete (Section 3 §4, §9, §10).

Rules: fetch scoped first (404), then the owner-or-admin check (403); creating counts
against `companies.max` (422 `LIMIT_REACHED`); the domain is stored lower-cased without
scheme or `www.` (a soft dedupe signal, DECISIONS §3.4, never blocking); the phone is
E.164. Deleting tombstones the company and detaches its contacts (they stay).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import Actor, EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import load_entitlements
from m3crm.kernel.errors import LimitReached, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ownership import audit_owner_moves
from m3crm.kernel.pagination import Page, PageRequest, Sort
from m3crm.modules.contacts.contacts import resolve_owner
from m3crm.modules.contacts.exceptions import NotRecordOwner
from m3crm.modules.contacts.models import Company, CompanyStatus
from m3crm.modules.contacts.policies import can_edit_company, company_scope
from m3crm.modules.contacts.repository import ContactRepository
from m3crm.modules.contacts.repository_companies import CompanyFilters, CompanyRepository
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.modules.notify.addresses import normalize_e164

COMPANIES_MAX = "companies.max"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EDITABLE = ("name", "domain", "phone_e164", "country", "city", "address", "status",
            "owner_user_id")  # fmt: skip


@dataclass(frozen=True, slots=True)
class CompanyInput:
    name: str
    domain: str | None = None
    phone: str | None = None
    country: str | None = None
    city: str | None = None
    address: str | None = None
    status: CompanyStatus = CompanyStatus.ACTIVE
    owner_user_id: UUID | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompanyView:
    company: Company
    custom_fields: dict[str, Any]


def normalize_domain(value: str) -> str:
    """`https://www.Example.com/x` → `example.com`; 422 on `domain` when not a domain."""
    domain = re.sub(r"^[a-z]+://", "", value.strip().lower()).split("/")[0]
    domain = domain.removeprefix("www.")
    if not DOMAIN.match(domain):
        raise ValidationFailed({"domain": N_("Enter a domain such as example.com.")})
    return domain


def snapshot(company: Company) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(company, name) for name in EDITABLE}
    values["status"] = company.status.value
    values["owner_user_id"] = str(company.owner_user_id) if company.owner_user_id else None
    return values


def _clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    """API field names → columns, normalised."""
    cleaned = dict(changes)
    if "phone" in cleaned:
        phone = cleaned.pop("phone")
        cleaned["phone_e164"] = normalize_e164(phone, field="phone") if phone else None
    if cleaned.get("domain"):
        cleaned["domain"] = normalize_domain(cleaned["domain"])
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].upper()
    return cleaned


class CompanyService:
    async def list_page(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        filters: CompanyFilters,
        page: PageRequest,
        sort: Sort,
    ) -> Page[CompanyView]:
        scope = await company_scope(session, subject)
        found = await CompanyRepository(session, subject.tenant_id, scope).page(filters, page, sort)
        return Page(await self.views(session, subject, found.items), found.next_cursor)

    async def count(
        self, session: AsyncSession, subject: AuthSubject, filters: CompanyFilters
    ) -> int:
        scope = await company_scope(session, subject)
        return await CompanyRepository(session, subject.tenant_id, scope).count(filters)

    async def views(
        self, session: AsyncSession, subject: AuthSubject, companies: Sequence[Company]
    ) -> list[CompanyView]:
        ids = [c.id for c in companies]
        values = await custom_fields.values_of(session, subject.tenant_id, EntityType.COMPANY, ids)
        return [CompanyView(c, values[c.id]) for c in companies]

    async def get_readable(
        self, session: AsyncSession, subject: AuthSubject, company_id: UUID
    ) -> Company:
        scope = await company_scope(session, subject)
        company = await CompanyRepository(session, subject.tenant_id, scope).get_live(company_id)
        if company is None:
            raise NotFound()
        return company

    async def get_for_update(
        self, session: AsyncSession, subject: AuthSubject, company_id: UUID
    ) -> Company:
        company = await self.get_readable(session, subject, company_id)
        if not can_edit_company(subject, company):
            raise NotRecordOwner()
        return company

    async def create(
        self, session: AsyncSession, subject: AuthSubject, data: CompanyInput
    ) -> Company:
        entitlements = await load_entitlements(session, subject.tenant_id)
        repo = CompanyRepository(session, subject.tenant_id)
        limit = entitlements.limits.get(COMPANIES_MAX, 0)
        if await repo.count_live() + 1 > limit:
            raise LimitReached(COMPANIES_MAX, limit)
        cleaned = _clean({"domain": data.domain, "phone": data.phone, "country": data.country})
        owner = await resolve_owner(session, subject, data.owner_user_id or subject.user_id)
        checked = await custom_fields.check(
            session,
            subject.tenant_id,
            EntityType.COMPANY,
            data.custom_fields,
            entity_id=None,
            creating=True,
        )
        company = repo.add(
            Company(
                name=data.name,
                domain=cleaned["domain"],
                phone_e164=cleaned["phone_e164"],
                country=cleaned["country"],
                city=data.city,
                address=data.address,
                status=data.status,
                owner_user_id=owner,
            )
        )
        await session.flush()
        await custom_fields.write(
            session, subject.tenant_id, EntityType.COMPANY, company.id, checked
        )
        after = snapshot(company) | {"custom_fields": dict(data.custom_fields) or None}
        await record(
            session, subject, "company.created", EntityRef("company", company.id), None, after
        )
        return company

    async def update(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        company_id: UUID,
        changes: Mapping[str, Any],
        custom: Mapping[str, Any] | None,
    ) -> Company:
        company = await self.get_for_update(session, subject, company_id)
        before = snapshot(company)
        for name in ("name", "status"):
            if name in changes and changes[name] is None:
                raise ValidationFailed({name: N_("This field cannot be empty.")})
        cleaned = _clean(changes)
        if cleaned.get("owner_user_id") is not None:
            await resolve_owner(session, subject, cleaned["owner_user_id"])
        checked = None
        if custom:
            checked = await custom_fields.check(
                session,
                subject.tenant_id,
                EntityType.COMPANY,
                custom,
                entity_id=company.id,
                creating=False,
            )
        for name, value in cleaned.items():
            setattr(company, name, value)
        if checked is not None:
            await custom_fields.write(
                session, subject.tenant_id, EntityType.COMPANY, company.id, checked
            )
        company.updated_at = datetime.now(UTC)
        await session.flush()
        after = snapshot(company)
        if custom:
            before["custom_fields"], after["custom_fields"] = None, dict(custom)
        if after != before:
            await record(
                session, subject, "company.updated", EntityRef("company", company.id), before, after
            )
        return company

    async def delete(self, session: AsyncSession, subject: AuthSubject, company_id: UUID) -> None:
        company = await self.get_for_update(session, subject, company_id)
        before = snapshot(company)
        await ContactRepository(session, subject.tenant_id).detach_company(company.id)
        company.deleted_at = datetime.now(UTC)
        await session.flush()
        await record(session, subject, "company.deleted", EntityRef("company", company.id), before)

    async def reassign_owner(
        self, session: AsyncSession, actor: Actor, from_user: UUID, to_user: UUID | None
    ) -> int:
        """The user-lifecycle hook: give every company of `from_user` to `to_user` (or
        nobody). Audited once per company as `company.updated`. The number moved."""
        moved = await CompanyRepository(session, actor.tenant_id).reassign_owner(from_user, to_user)
        await audit_owner_moves(
            session, actor, "company.updated", "company", moved, from_user, to_user
        )
        return len(moved)


company = CompanyService()
