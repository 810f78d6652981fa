"""`TenantRepository`: the only way code reads or writes a tenant table.

Its base statement always carries `tenant_id = :tenant`, so a service that narrows it
cannot forget the tenant (CONVENTIONS rule 1). RLS is the backstop, not the filter.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.base import TenantKeyed
from m3crm.kernel.errors import NotFound
from m3crm.kernel.ids import TenantId

M = TypeVar("M", bound=TenantKeyed)


class TenantRepository(Generic[M]):
    """Repository of one tenant table, bound to one tenant for its lifetime."""

    model: ClassVar[type[TenantKeyed]]

    def __init__(self, session: AsyncSession, tenant_id: TenantId) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def base_statement(self) -> Select[M]:
        stmt: Select[M] = select(self.model).where(  # type: ignore[assignment]
            self.model.tenant_id == self.tenant_id
        )
        return stmt

    async def get(self, id: UUID) -> M | None:
        """The row with this id *in this tenant*; another tenant's id gives `None`."""
        row = await self.session.get(self.model, (self.tenant_id, id))
        return row  # type: ignore[return-value]

    async def get_or_404(self, id: UUID) -> M:
        row = await self.get(id)
        if row is None:
            raise NotFound()
        return row

    def add(self, row: M) -> M:
        """Stage a new row in this tenant (the tenant is set here, never by the caller)."""
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row
