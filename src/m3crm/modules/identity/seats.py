"""Seats (spec §12 "Seat Management", DECISIONS §12.2): who holds one, the limit check,
and the report of a refusal.

A seat is held by every user who is not deactivated and by every pending invitation,
except that a user (or invitation) whose only role is `viewer` (read-only) holds none.
Checks take a per-tenant transaction lock first (`pg_advisory_xact_lock`), so two
concurrent invitations for the last seat cannot both count it free: the second waits for
the first to commit, then counts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.db.session import Database
from m3crm.kernel.entitlements import load_entitlements
from m3crm.kernel.errors import LimitReached
from m3crm.kernel.ids import TenantId
from m3crm.kernel.plan_catalog import SEATS
from m3crm.modules.access.repository import active_users_with_permission, holders_by_role
from m3crm.modules.access.repository_groups import members_by_group
from m3crm.modules.identity import notices
from m3crm.modules.identity import repository_seats as repo
from m3crm.modules.identity.repository_seats import FREE_ROLES
from m3crm.modules.notify.models import Severity

LIMIT_ACTION = "tenant.seat.limit_reached"
LIMIT_FAMILY = "tenant.seat_limit_reached"
ADMIN_PERMISSION = "user.invite"
"""Who hears of a refused seat: those who can invite."""

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SeatUsage:
    used: int
    allowed: int
    by_role: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)


def roles_take_seat(roles: Iterable[str]) -> bool:
    """No role at all still takes a seat (the user may be given roles at any time)."""
    held = set(roles)
    return not held or not held <= FREE_ROLES


async def seats_allowed(session: AsyncSession, tenant_id: TenantId) -> int:
    return (await load_entitlements(session, tenant_id)).limits.get(SEATS, 0)


async def require_seat(session: AsyncSession, tenant_id: TenantId, adding: int = 1) -> None:
    """422 `LIMIT_REACHED` when `adding` more seats exceed the plan's `users.max`. Takes
    the tenant's seat lock first (held until the transaction ends)."""
    if adding <= 0:
        return
    await repo.lock_seats(session, tenant_id)
    allowed = await seats_allowed(session, tenant_id)
    if await repo.seats_used(session, tenant_id) + adding > allowed:
        raise LimitReached(SEATS, allowed)


async def usage(session: AsyncSession, tenant_id: TenantId) -> SeatUsage:
    """`GET /v1/admin/seats`: used / allowed, and seat-holding users per role (a user with
    two roles appears under both), and per active group."""
    holders = repo.seat_holder_ids(tenant_id)
    return SeatUsage(
        used=await repo.seats_used(session, tenant_id),
        allowed=await seats_allowed(session, tenant_id),
        by_role=await holders_by_role(session, tenant_id, holders),
        by_group=await members_by_group(session, tenant_id, holders),
    )


async def report_seat_limit(database: Database, actor: Actor, refused: LimitReached) -> None:
    """`tenant.seat.limit_reached` audited, and every admin told by e-mail and in the
    inbox (once a day per tenant; `notices.send_to_user`), in a transaction of its own:
    the refused request's transaction rolls back, the record of the refusal must not.
    Never raises (the 422 stands)."""
    try:
        async with database.transaction(actor.tenant_id, actor.user_id) as own:
            await audit.record(
                own, actor, LIMIT_ACTION, EntityRef("tenant", actor.tenant_id),
                after=dict(refused.details),
            )  # fmt: skip
            allowed = int(refused.details.get("limit", 0) or 0)
            used = await repo.seats_used(own, actor.tenant_id)
            day = datetime.now(UTC).date().isoformat()
            for admin_id in await active_users_with_permission(
                own, actor.tenant_id, ADMIN_PERMISSION
            ):
                await notices.send_to_user(
                    own,
                    actor.tenant_id,
                    admin_id,
                    LIMIT_FAMILY,
                    {"used": used, "allowed": allowed},
                    key=f"seat-limit:{actor.tenant_id}:{admin_id}:{day}",
                    link_url="/admin/users",
                    severity=Severity.WARNING,
                )
    except Exception:  # the refusal is what the caller must see
        log.exception("seat_limit_report_failed", tenant_id=str(actor.tenant_id))
