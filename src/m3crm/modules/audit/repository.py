"""Every query on `audit_logs` outside the kernel (CONVENTIONS rule 1).

Each statement starts from the tenant-filtered base statement, so a filter can only
narrow the tenant's own trail; RLS is the second wall.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, or_, select

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.pagination import Page, PageRequest, paginate_by_id
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User

EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "actor_user_id",
    "action",
    "entity_type",
    "entity_id",
    "before_data",
    "after_data",
    "ip_address",
    "user_agent",
    "request_id",
)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """`action` ending in `*` is a prefix (`user.*`); otherwise it matches exactly.
    `involving_user_id`: entries about that user (entity `user`) *or* by them (actor)."""

    since: datetime | None = None
    until: datetime | None = None
    actor_user_id: UUID | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    involving_user_id: UUID | None = None

    def as_dict(self) -> dict[str, str]:
        """The filters that are set, as JSON-ready strings (for the audit of an export)."""
        values: dict[str, Any] = {
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
            "actor_user_id": str(self.actor_user_id) if self.actor_user_id else None,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "involving_user_id": str(self.involving_user_id) if self.involving_user_id else None,
        }
        return {k: v for k, v in values.items() if v is not None}


class AuditLogRepository(TenantRepository[AuditLog]):
    model = AuditLog

    def filtered(self, filters: AuditFilters) -> Select[AuditLog]:
        stmt = self.base_statement()
        return _narrow(stmt, filters)

    async def page(self, filters: AuditFilters, page: PageRequest) -> Page[AuditLog]:
        return await paginate_by_id(self.session, self.filtered(filters), AuditLog.id, page)

    async def stream(
        self, filters: AuditFilters, *, chunk_size: int = 1000
    ) -> AsyncIterator[Sequence[Any]]:
        """Rows (column tuples in `EXPORT_COLUMNS` order), newest first, in chunks read
        through a server-side cursor: memory stays bounded whatever the trail's size.
        Callers MUST consume it inside the session's transaction."""
        columns = [getattr(AuditLog, name) for name in EXPORT_COLUMNS]
        stmt = _narrow(
            select(*columns).where(AuditLog.tenant_id == self.tenant_id), filters
        ).order_by(AuditLog.id.desc())
        result = await self.session.stream(stmt.execution_options(yield_per=chunk_size))
        async for partition in result.partitions(chunk_size):
            yield partition

    async def actor_names(self, user_ids: set[UUID]) -> dict[UUID, str]:
        """Display names (full name, else e-mail) of this tenant's users among `user_ids`."""
        if not user_ids:
            return {}
        stmt = select(User.id, User.full_name, User.email).where(
            User.tenant_id == self.tenant_id, User.id.in_(user_ids)
        )
        rows = (await self.session.execute(stmt)).all()
        return {row.id: row.full_name or row.email for row in rows}

    async def people(self, limit: int = 500) -> list[tuple[UUID, str]]:
        """The tenant's users (id, display name) by name, for the actor filter."""
        stmt = (
            select(User.id, User.full_name, User.email)
            .where(User.tenant_id == self.tenant_id)
            .order_by(User.full_name, User.email)
            .limit(limit)
        )
        return [(r.id, r.full_name or r.email) for r in (await self.session.execute(stmt)).all()]


def _narrow(stmt: Select[Any], filters: AuditFilters) -> Select[Any]:
    if filters.since is not None:
        stmt = stmt.where(AuditLog.occurred_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AuditLog.occurred_at <= filters.until)
    if filters.actor_user_id is not None:
        stmt = stmt.where(AuditLog.actor_user_id == filters.actor_user_id)
    if filters.action:
        if filters.action.endswith("*"):
            prefix = filters.action[:-1]
            if prefix:
                stmt = stmt.where(AuditLog.action.startswith(prefix, autoescape=True))
        else:
            stmt = stmt.where(AuditLog.action == filters.action)
    if filters.entity_type is not None:
        stmt = stmt.where(AuditLog.entity_type == filters.entity_type)
    if filters.entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == filters.entity_id)
    if filters.involving_user_id is not None:
        user = filters.involving_user_id
        about = and_(AuditLog.entity_type == "user", AuditLog.entity_id == str(user))
        stmt = stmt.where(or_(about, AuditLog.actor_user_id == user))
    return stmt
