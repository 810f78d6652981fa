"""Pydantic views of OperationRuns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from m3crm.kernel.runs.models import RunStatus


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    type: str
    status: RunStatus
    permission: str
    initiator_user_id: UUID
    dedupe_key: str | None
    progress_done: int
    progress_total: int | None
    counts: dict[str, int]
    result: dict[str, Any] | None
    reason: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunPage(BaseModel):
    items: list[RunRead]
    next_cursor: str | None
