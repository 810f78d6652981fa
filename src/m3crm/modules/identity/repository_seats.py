"""Seat counting (SQL): who holds a seat, pending invitations, the per-tenant lock.

Reads the access module's role tables for the viewer rule (DECISIONS §12.2); the rule's
roles come from `seats.FREE_ROLES`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access.models import Role, UserRole
from m3crm.modules.identity.models import Invite

FREE_ROLES = frozenset({"viewer"})
"""Roles that hold no seat (read-only); a user holding any other role holds one."""


def _free_user() -> ColumnElement[bool]:
    """The user holds roles, all of them free ones (aliases: the breakdown joins the
    role tables too)."""
    held, role = aliased(UserRole), aliased(Role)
    any_role = exists().where(held.tenant_id == User.tenant_id, held.user_id == User.id)
    mine = aliased(UserRole)
    paid_role = exists().where(
        mine.tenant_id == User.tenant_id,
        mine.user_id == User.id,
        role.tenant_id == mine.tenant_id,
        role.id == mine.role_id,
        role.code.not_in(FREE_ROLES),
    )
    return and_(any_role, not_(paid_role))


def _seat_users() -> ColumnElement[bool]:
    return and_(User.status != UserStatus.DEACTIVATED, not_(_free_user()))


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
    stmt = select(not_(_free_user())).where(User.tenant_id == tenant_id, User.id == user_id)
    return bool((await session.execute(stmt)).scalar_one_or_none() or False)


async def seat_holders_by_role(session: AsyncSession, tenant_id: TenantId) -> dict[str, int]:
    """Seat-holding users per role code (a user with two roles counts under both)."""
    stmt = (
        select(Role.code, func.count(func.distinct(User.id)))
        .select_from(User)
        .join(UserRole, and_(UserRole.tenant_id == User.tenant_id, UserRole.user_id == User.id))
        .join(Role, and_(Role.tenant_id == UserRole.tenant_id, Role.id == UserRole.role_id))
        .where(User.tenant_id == tenant_id, _seat_users())
        .group_by(Role.code)
        .order_by(Role.code)
    )
    return {code: int(n) for code, n in (await session.execute(stmt)).all()}


def seat_holder_ids(tenant_id: TenantId) -> Select[UUID]:
    """A subquery of the ids of the tenant's seat-holding users (for breakdowns)."""
    return select(User.id).where(User.tenant_id == tenant_id, _seat_users())
