"""Response bodies and query types of the audit API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ACTION_PATTERN = r"^[A-Za-z0-9_.:-]{1,99}\*?$|^\*$"
"""An action (`user.suspended`) or a prefix of one ending in `*` (`user.*`)."""
ENTITY_PATTERN = r"^[A-Za-z0-9_.:@-]{1,100}$"


def as_utc(value: datetime) -> datetime:
    """A time without an offset is UTC; one that cannot be expressed in UTC is refused."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("time out of range") from exc


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class AuditLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    occurred_at: datetime
    actor_user_id: UUID | None
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None = Field(validation_alias="before_data")
    after: dict[str, Any] | None = Field(validation_alias="after_data")
    ip_address: str | None
    user_agent: str | None
    request_id: str | None


class AuditLogPage(BaseModel):
    items: list[AuditLogOut]
    next_cursor: str | None
