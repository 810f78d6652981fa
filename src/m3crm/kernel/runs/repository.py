"""Every query on `operation_runs`."""

from __future__ import annotations

from uuid import UUID

from m3crm.kernel.pagination import Page, PageRequest, paginate_by_id
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.runs.models import ACTIVE, OperationRun, RunStatus


class OperationRunRepository(TenantRepository[OperationRun]):
    model = OperationRun

    async def get_for_update(self, run_id: UUID) -> OperationRun | None:
        stmt = self.base_statement().where(OperationRun.id == run_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def find_active_duplicate(self, type: str, dedupe_key: str) -> OperationRun | None:
        stmt = self.base_statement().where(
            OperationRun.type == type,
            OperationRun.dedupe_key == dedupe_key,
            OperationRun.status.in_(ACTIVE),
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def list_page(
        self,
        page: PageRequest,
        *,
        status: RunStatus | None = None,
        type: str | None = None,
        initiator_user_id: UUID | None = None,
    ) -> Page[OperationRun]:
        stmt = self.base_statement()
        if status is not None:
            stmt = stmt.where(OperationRun.status == status)
        if type is not None:
            stmt = stmt.where(OperationRun.type == type)
        if initiator_user_id is not None:
            stmt = stmt.where(OperationRun.initiator_user_id == initiator_user_id)
        return await paginate_by_id(self.session, stmt, OperationRun.id, page)
