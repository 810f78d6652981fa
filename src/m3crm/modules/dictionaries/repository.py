"""Every query on the coded dictionary tables (CONVENTIONS rule 1).

Not a `TenantRepository`: these tables mix global rows (`tenant_id IS NULL`) with tenant
rows, so reads say which they want explicitly; writes always target the tenant's own rows
(RLS refuses anything else).
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.modules.dictionaries.models import DictionaryEntry


class DictionaryRepository:
    def __init__(
        self, session: AsyncSession, tenant_id: TenantId, model: type[DictionaryEntry]
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.model = model

    def _visible(self, *, with_own: bool) -> Select[DictionaryEntry]:
        """Global rows, plus the tenant's own when `with_own`."""
        model = self.model
        scope = (
            or_(model.tenant_id.is_(None), model.tenant_id == self.tenant_id)
            if with_own
            else model.tenant_id.is_(None)
        )
        return select(model).where(scope)

    async def list(self, *, with_own: bool, active_only: bool) -> list[DictionaryEntry]:
        model = self.model
        stmt = self._visible(with_own=with_own)
        if active_only:
            stmt = stmt.where(model.is_active.is_(True))
        stmt = stmt.order_by(model.sort_order, model.code, model.id)
        return list((await self.session.execute(stmt)).scalars())

    async def by_code(self, code: str, *, with_own: bool) -> DictionaryEntry | None:
        """The visible entry with this code (a code names one entry: the service refuses a
        tenant code a global row holds)."""
        stmt = self._visible(with_own=with_own).where(self.model.code == code).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def own(self, entry_id: UUID, *, for_update: bool = False) -> DictionaryEntry | None:
        """The tenant's own entry with this id (a global row or another tenant's is None)."""
        model = self.model
        stmt = select(model).where(model.tenant_id == self.tenant_id, model.id == entry_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def add(self, entry: DictionaryEntry) -> DictionaryEntry:
        entry.tenant_id = self.tenant_id
        self.session.add(entry)
        return entry
