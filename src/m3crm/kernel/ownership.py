"""Ownable record types (spec §12.2, DECISIONS §12.4): the user lifecycle's view of
"records a user owns".

Every module whose records have an owner registers an `OwnableType` from its
`service.register()`; deactivating a user who still owns records asks for a new owner
(`reassign_to`) and refuses without one, and suspending may move them too. A module added
later registers itself, the user lifecycle needs no change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import Actor, EntityRef, record_many
from m3crm.kernel.ids import TenantId

CountOwned = Callable[[AsyncSession, TenantId, UUID], Awaitable[int]]
Reassign = Callable[[AsyncSession, Actor, UUID, UUID], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class OwnableType:
    """`count_owned(session, tenant_id, user_id)` counts the user's live records;
    `reassign(session, actor, from_user_id, to_user_id)` moves them (audited by the
    module) and returns how many moved."""

    type: str
    label_msgid: str
    count_owned: CountOwned
    reassign: Reassign


_REGISTRY: dict[str, OwnableType] = {}


def register_ownable(ownable: OwnableType) -> None:
    """Idempotent per `type` (the last registration wins)."""
    _REGISTRY[ownable.type] = ownable


def ownable_types() -> list[OwnableType]:
    return list(_REGISTRY.values())


async def owned_records(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> dict[str, int]:
    """`{type: count}` of the types the user owns records of (zero counts left out)."""
    owned: dict[str, int] = {}
    for ownable in _REGISTRY.values():
        count = await ownable.count_owned(session, tenant_id, user_id)
        if count:
            owned[ownable.type] = count
    return owned


async def reassign_all(
    session: AsyncSession, actor: Actor, from_user_id: UUID, to_user_id: UUID
) -> dict[str, int]:
    """Move every owned record of every registered type; `{type: moved}`."""
    moved: dict[str, int] = {}
    for ownable in _REGISTRY.values():
        count = await ownable.reassign(session, actor, from_user_id, to_user_id)
        if count:
            moved[ownable.type] = count
    return moved


async def audit_owner_moves(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    moved: Sequence[UUID],
    from_user: UUID,
    to_user: UUID | None,
) -> None:
    """One audit row per moved record (`owner_user_id` before and after), one flush:
    what a module's `reassign` writes after moving its records."""
    before = {"owner_user_id": str(from_user)}
    after = {"owner_user_id": str(to_user) if to_user else None}
    await record_many(
        session, actor, action, ((EntityRef(entity_type, rid), before, after) for rid in moved)
    )
