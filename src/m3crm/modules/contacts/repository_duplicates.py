"""Every query on `contact_duplicates` (soft matches kept for people to review)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert

from m3crm.kernel.ids import new_id
from m3crm.kernel.pagination import Page, PageRequest, paginate_by_id
from m3crm.kernel.repository import TenantRepository
from m3crm.modules.contacts.models import ContactDuplicate


class DuplicateRepository(TenantRepository[ContactDuplicate]):
    model = ContactDuplicate

    async def remember(self, a: UUID, b: UUID, reason: str, score: float) -> None:
        """Keep the pair (ordered, so a pair is stored once); an existing pair stays."""
        first, second = sorted((a, b))
        await self.session.execute(
            insert(ContactDuplicate)
            .values(
                tenant_id=self.tenant_id,
                id=new_id(),
                contact_a_id=first,
                contact_b_id=second,
                reason=reason,
                score=score,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "contact_a_id", "contact_b_id"])
        )

    async def open_page(self, page: PageRequest) -> Page[ContactDuplicate]:
        stmt = self.base_statement().where(ContactDuplicate.resolved_at.is_(None))
        return await paginate_by_id(self.session, stmt, ContactDuplicate.id, page)

    async def resolve_for(self, source: UUID, target: UUID) -> None:
        await self.session.execute(
            update(ContactDuplicate)
            .where(
                ContactDuplicate.tenant_id == self.tenant_id,
                ContactDuplicate.resolved_at.is_(None),
                or_(
                    ContactDuplicate.contact_a_id == source, ContactDuplicate.contact_b_id == source
                ),
            )
            .values(resolved_at=datetime.now(UTC), merged_into_id=target)
        )
