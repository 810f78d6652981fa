"""Seat counting (SQL): who holds a seat, pending invitations, the per-tenant lock.

The viewer rule (DECISIONS §12.2) is the access module's `holds_only_roles` predicate
over `FREE_ROLES`; who holds which role stays the access module's business.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, not_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access.repository import holds_only_roles
from m3crm.modules.identity.models import Invite

FREE_ROLES = frozenset({"viewer"})
"""Roles that hold no seat (read-only); a user holding any other role holds one."""


def _seat_users() -> ColumnElement[bool]:
    return and_(User.status != UserStatus.DEACTIVATED, not_(holds_only_roles(FREE_ROLES)))


async def lock_seats(session: AsyncSession, tenant_id: TenantId) -> None:
    """Serialise seat checks of the tenant until this transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"seats:{tenant_id}"}
    )


async def seats_used(session: AsyncSession, tenant_id: TenantId) -> int:
    now = datetime.now(UTC)
    users = select(func.count(User.id)).where(User.tenant_id == tenant_id, _seat_users())
    invites = select(func.count(Invite.id)).where(
        Invite.tenant_id == tenant_id,
        Invite.accepted_at.is_(None),
        Invite.revoked_at.is_(None),
        Invite.expires_at > now,
        not_(Invite.role_codes.contained_by(sorted(FREE_ROLES))),
    )
    return int((await session.execute(users)).scalar_one()) + int(
        (await session.execute(invites)).scalar_one()
    )


async def user_takes_seat(session: AsyncSession, tenant_id: TenantId, user_id: UUID) -> bool:
    stmt = select(not_(holds_only_roles(FREE_ROLES))).where(
        User.tenant_id == tenant_id, User.id == user_id
    )
    return bool((await session.execute(stmt)).scalar_one_or_none() or False)


def seat_holder_ids(tenant_id: TenantId) -> Select[UUID]:
    """A subquery of the ids of the tenant's seat-holding users (for breakdowns)."""
    return select(User.id).where(User.tenant_id == tenant_id, _seat_users())
