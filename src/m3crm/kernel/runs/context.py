"""What a run handler receives while it executes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.db.session import Database
from m3crm.kernel.runs.models import OperationRun


@dataclass(slots=True)
class RunContext:
    """`session` is the handler's transaction (tenant-bound, committed together with the
    run's success). `idempotency_key` is stable across retries of the same run: pass it
    to any external side effect so a rerun after a crash does not repeat it."""

    session: AsyncSession
    subject: AuthSubject
    run_id: UUID
    payload: Mapping[str, Any]
    database: Database

    @property
    def idempotency_key(self) -> str:
        return f"run:{self.run_id}"

    async def report_progress(
        self, done: int, total: int | None = None, counts: Mapping[str, int] | None = None
    ) -> None:
        """Publish progress in its own short transaction, so watchers see it mid-run."""
        values: dict[str, Any] = {"progress_done": done}
        if total is not None:
            values["progress_total"] = total
        if counts is not None:
            values["counts"] = dict(counts)
        async with self.database.transaction(self.subject.tenant_id) as session:
            await session.execute(
                update(OperationRun)
                .where(
                    OperationRun.tenant_id == self.subject.tenant_id,
                    OperationRun.id == self.run_id,
                )
                .values(**values)
            )
