"""Every query on `companies` (CONVENTIONS rule 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.pagination import Page, PageRequest, Sort, paginate_sorted
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.text import fold
from m3crm.modules.contacts.models import Company, CompanyStatus
from m3crm.modules.contacts.repository import escape_like


@dataclass(frozen=True, slots=True)
class CompanyFilters:
    domain: str | None = None
    name: str | None = None
    city: str | None = None
    status: CompanyStatus | None = None
    q: str | None = None
    segment: ColumnElement[bool] | None = None


class CompanyRepository(TenantRepository[Company]):
    """`owner_scope` (from `kernel.visibility`) narrows everything a person sees to the
    owners their record visibility scope admits; internal lookups pass none."""

    model = Company

    def __init__(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        owner_scope: ColumnElement[bool] | None = None,
    ) -> None:
        super().__init__(session, tenant_id)
        self.owner_scope = owner_scope

    def live_statement(self) -> Select[Company]:
        stmt = self.base_statement().where(Company.deleted_at.is_(None))
        return stmt if self.owner_scope is None else stmt.where(self.owner_scope)

    async def get_live(self, company_id: UUID) -> Company | None:
        stmt = self.live_statement().where(Company.id == company_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def matching(self, filters: CompanyFilters) -> Select[Company]:
        stmt = self.live_statement()
        if filters.domain:
            stmt = stmt.where(Company.domain == filters.domain.lower())
        if filters.name:
            stmt = stmt.where(Company.search_name == fold(filters.name.strip()))
        if filters.city:
            stmt = stmt.where(func.lower(Company.city) == filters.city.strip().lower())
        if filters.status is not None:
            stmt = stmt.where(Company.status == filters.status)
        if filters.segment is not None:
            stmt = stmt.where(filters.segment)
        if filters.q:
            stmt = stmt.where(self.text_match(filters.q))
        return stmt

    def text_match(self, q: str) -> ColumnElement[bool]:
        folded = escape_like(fold(q.strip()))
        return Company.search_name.like(f"%{folded}%", escape="\\") | Company.domain.like(
            f"{folded}%", escape="\\"
        )

    async def page(self, filters: CompanyFilters, page: PageRequest, sort: Sort) -> Page[Company]:
        return await paginate_sorted(self.session, self.matching(filters), Company.id, page, sort)

    async def count(self, filters: CompanyFilters) -> int:
        stmt = self.matching(filters).with_only_columns(func.count()).order_by(None)
        return int((await self.session.execute(stmt)).scalar_one())

    async def count_owned(self, user_id: UUID) -> int:
        """Live companies the user owns (the user lifecycle's ownership check)."""
        stmt = select(func.count()).where(
            Company.tenant_id == self.tenant_id,
            Company.owner_user_id == user_id,
            Company.deleted_at.is_(None),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def reassign_owner(self, from_user: UUID, to_user: UUID | None) -> list[UUID]:
        stmt = (
            update(Company)
            .where(Company.tenant_id == self.tenant_id, Company.owner_user_id == from_user)
            .values(owner_user_id=to_user, updated_at=func.now())
            .returning(Company.id)
        )
        return [row[0] for row in (await self.session.execute(stmt)).all()]

    async def count_live(self) -> int:
        stmt = select(func.count()).where(
            Company.tenant_id == self.tenant_id, Company.deleted_at.is_(None)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def search(self, q: str, limit: int) -> list[Company]:
        """Names starting with the folded query first (btree range, in order), then names
        or domains containing it (a scan of the tenant's companies, which are few)."""
        pattern = escape_like(fold(q.strip()))
        starting = self.live_statement().where(Company.search_name.like(f"{pattern}%", escape="\\"))
        found = list(
            (
                await self.session.execute(
                    starting.order_by(Company.search_name, Company.id).limit(limit)
                )
            ).scalars()
        )
        if len(found) < limit:
            rest = self.live_statement().where(
                self.text_match(q), Company.id.not_in([c.id for c in found])
            )
            found += (await self.session.execute(rest.limit(limit - len(found)))).scalars()
        return found

    async def ids_by_folded_name(self, names: Sequence[str]) -> dict[str, UUID]:
        """`{folded name: id}` of live companies (the oldest when two share a name)."""
        if not names:
            return {}
        stmt = (
            select(Company.search_name, Company.id)
            .where(
                Company.tenant_id == self.tenant_id,
                Company.deleted_at.is_(None),
                Company.search_name.in_(names),
            )
            .order_by(Company.id.desc())
        )
        return {name: company_id for name, company_id in (await self.session.execute(stmt)).all()}

    async def by_ids(self, ids: Sequence[UUID]) -> list[Company]:
        if not ids:
            return []
        stmt = self.live_statement().where(Company.id.in_(ids))
        return list((await self.session.execute(stmt)).scalars())
