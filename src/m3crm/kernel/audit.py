"""The audit trail (ARCHITECTURE §2.9, spec §18): one append-only row per state change.

`record` writes in the caller's transaction, so an audited change and its audit row
commit or roll back together. The app role has no UPDATE/DELETE grant on `audit_logs`,
and a trigger refuses both for every role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.context import current_request
from m3crm.kernel.db.base import TenantKeyed, tenant_fk
from m3crm.kernel.ids import TenantId


class AuditLog(TenantKeyed):
    __tablename__ = "audit_logs"
    __table_args__ = (
        tenant_fk("actor_user_id", "users"),
        Index(None, "tenant_id", "entity_type", "entity_id"),
        Index(None, "tenant_id", "occurred_at"),
        # "what this person did" (the person page's timeline, the actor filter).
        Index(None, "tenant_id", "actor_user_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_user_id: Mapped[UUID | None]
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))


class Actor(Protocol):
    """Who acted: an `AuthSubject` (request or re-checked job) satisfies this."""

    @property
    def tenant_id(self) -> TenantId: ...

    @property
    def user_id(self) -> UUID | None: ...


@dataclass(frozen=True, slots=True)
class SystemActor:
    """An actor that is not a signed-in subject: the system acting for a tenant, about a
    user who may be absent or inactive (sign-in steps, refused runs, webhooks, notices)."""

    tenant_id: TenantId
    user_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class EntityRef:
    type: str
    id: UUID | str | None


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Keep only the keys whose values changed (creation and deletion keep everything)."""
    if before is None or after is None:
        return (dict(before) if before else None, dict(after) if after else None)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return ({k: before.get(k) for k in changed}, {k: after.get(k) for k in changed})


async def record(
    session: AsyncSession,
    subject: Actor,
    action: str,
    entity: EntityRef,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row in the caller's transaction (flushed, not committed).

    Values must be JSON-serialisable; ip, user agent and request id come from the
    current request context when there is one.
    """
    row = _row(subject, action, entity, before, after)
    session.add(row)
    await session.flush()
    return row


async def record_many(
    session: AsyncSession,
    subject: Actor,
    action: str,
    changes: Iterable[tuple[EntityRef, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> None:
    """`record` for many entities at once (one flush): `(entity, before, after)` each."""
    session.add_all(_row(subject, action, *change) for change in changes)
    await session.flush()


def _row(
    subject: Actor,
    action: str,
    entity: EntityRef,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditLog:
    old, new = diff(before, after)
    ctx = current_request()
    return AuditLog(
        tenant_id=subject.tenant_id,
        actor_user_id=subject.user_id,
        action=action,
        entity_type=entity.type,
        entity_id=str(entity.id) if entity.id is not None else None,
        before_data=old,
        after_data=new,
        ip_address=ctx.ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
    )
