"""Every query of phone verification and the user profile (CONVENTIONS rule 1).

Each statement names the tenant and the user itself (RLS is the second wall): a
verification is only ever found by its owner, so another user's or another tenant's
id reads as missing.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId, new_id
from m3crm.modules.identity.models import (
    PhoneVerification,
    PhoneVerificationStatus,
    UserProfile,
)


async def starts_since(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, since: datetime
) -> tuple[int, datetime | None]:
    """How many verifications the user started since `since`, and the oldest one's time."""
    stmt = select(func.count(), func.min(PhoneVerification.created_at)).where(
        PhoneVerification.tenant_id == tenant_id,
        PhoneVerification.user_id == user_id,
        PhoneVerification.created_at > since,
    )
    count, oldest = (await session.execute(stmt)).one()
    return int(count), oldest


async def pending_for_user(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> list[PhoneVerification]:
    """The user's pending verifications, locked for update (newest first)."""
    stmt = (
        select(PhoneVerification)
        .where(
            PhoneVerification.tenant_id == tenant_id,
            PhoneVerification.user_id == user_id,
            PhoneVerification.status == PhoneVerificationStatus.PENDING,
        )
        .order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc())
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def revoke_pending(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, *, detail: str
) -> list[UUID]:
    """Revoke every pending verification of the user; the ids revoked."""
    stmt = (
        update(PhoneVerification)
        .where(
            PhoneVerification.tenant_id == tenant_id,
            PhoneVerification.user_id == user_id,
            PhoneVerification.status == PhoneVerificationStatus.PENDING,
        )
        .values(status=PhoneVerificationStatus.REVOKED, detail=detail)
        .returning(PhoneVerification.id)
        .execution_options(synchronize_session="fetch")
    )
    return list((await session.execute(stmt)).scalars())


async def owned_verification(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, verification_id: UUID
) -> PhoneVerification | None:
    """The user's own verification with this id, locked for update; None for anyone
    else's (same tenant or not)."""
    stmt = (
        select(PhoneVerification)
        .where(
            PhoneVerification.tenant_id == tenant_id,
            PhoneVerification.user_id == user_id,
            PhoneVerification.id == verification_id,
        )
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def latest_for_number(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, e164: str
) -> PhoneVerification | None:
    """The user's most recent verification of `e164`, locked for update (so two
    concurrent confirmations count their attempts one after the other)."""
    stmt = (
        select(PhoneVerification)
        .where(
            PhoneVerification.tenant_id == tenant_id,
            PhoneVerification.user_id == user_id,
            PhoneVerification.e164 == e164,
        )
        .order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def latest_pending(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> PhoneVerification | None:
    """The user's newest pending verification (read only; for pages)."""
    stmt = (
        select(PhoneVerification)
        .where(
            PhoneVerification.tenant_id == tenant_id,
            PhoneVerification.user_id == user_id,
            PhoneVerification.status == PhoneVerificationStatus.PENDING,
        )
        .order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def profile_of(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, *, for_update: bool = False
) -> UserProfile | None:
    stmt = select(UserProfile).where(
        UserProfile.tenant_id == tenant_id, UserProfile.user_id == user_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def ensure_profile(session: AsyncSession, tenant_id: TenantId, user_id: UUID) -> UserProfile:
    """The user's profile, created when missing (safe against a concurrent creator),
    locked for update."""
    await session.execute(
        insert(UserProfile)
        .values(tenant_id=tenant_id, id=new_id(), user_id=user_id)
        .on_conflict_do_nothing(index_elements=["tenant_id", "user_id"])
    )
    profile = await profile_of(session, tenant_id, user_id, for_update=True)
    assert profile is not None
    return profile
