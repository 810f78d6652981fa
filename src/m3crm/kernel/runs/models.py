"""The `operation_runs` table and its state machine."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Enum, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import TenantModel, tenant_fk


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    CANCELLED = "cancelled"


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.DENIED, RunStatus.CANCELLED})
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset(
        {RunStatus.RUNNING, RunStatus.FAILED, RunStatus.DENIED, RunStatus.CANCELLED}
    ),
    # RUNNING → RUNNING is a retry after a worker died mid-run; → QUEUED awaits a retry.
    RunStatus.RUNNING: frozenset(
        {
            RunStatus.RUNNING,
            RunStatus.QUEUED,
            RunStatus.SUCCEEDED,
            RunStatus.FAILED,
            RunStatus.DENIED,
        }
    ),
    RunStatus.FAILED: frozenset({RunStatus.QUEUED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.DENIED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}


class OperationRun(TenantModel):
    """One unit of queued work. `job_id` is the procrastinate job currently carrying it.

    Invariant: at most one active (queued/running) run per `(tenant, type, dedupe_key)`.
    """

    __tablename__ = "operation_runs"
    __table_args__ = (
        tenant_fk("initiator_user_id", "users"),
        Index(None, "tenant_id", "status", "id"),
        Index(
            "uq_operation_runs_active_dedupe",
            "tenant_id",
            "type",
            "dedupe_key",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running') AND dedupe_key IS NOT NULL"),
        ),
    )

    type: Mapped[str] = mapped_column(String(100))
    status: Mapped[RunStatus] = mapped_column(
        Enum(RunStatus, name="run_status", values_callable=lambda e: [m.value for m in e]),
        default=RunStatus.QUEUED,
    )
    permission: Mapped[str] = mapped_column(String(100))
    initiator_user_id: Mapped[UUID]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
