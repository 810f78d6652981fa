"""Every query on `twofa_secrets`, `twofa_backup_codes` and `user_profiles` (CONVENTIONS
rule 1).

They run in a transaction bound to a tenant (`bind_tenant`). Callers such as the sign-in
flow know only a user id, so each statement also names the *bound* tenant in its WHERE
clause: the tenant is part of the query itself, with RLS as the second wall.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from m3crm.kernel.db.rls import CURRENT_TENANT
from m3crm.modules.identity.models import BackupCode, TwoFactor, UserProfile


def _bound_tenant() -> ColumnElement[UUID]:
    """The tenant the transaction is bound to (NULL when unbound: matches nothing)."""
    return literal_column(CURRENT_TENANT, type_=PgUUID(as_uuid=True))


async def two_factor(
    session: AsyncSession, user_id: UUID, *, for_update: bool = False
) -> TwoFactor | None:
    """The user's 2FA row. `for_update` locks it, so two requests presenting the same TOTP
    code are serialised and the replay check sees the first one's step."""
    stmt = select(TwoFactor).where(
        TwoFactor.tenant_id == _bound_tenant(), TwoFactor.user_id == user_id
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def profile(session: AsyncSession, user_id: UUID) -> UserProfile | None:
    stmt = select(UserProfile).where(
        UserProfile.tenant_id == _bound_tenant(), UserProfile.user_id == user_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def unused_backup_codes(session: AsyncSession, user_id: UUID) -> Sequence[BackupCode]:
    stmt = (
        select(BackupCode)
        .where(
            BackupCode.tenant_id == _bound_tenant(),
            BackupCode.user_id == user_id,
            BackupCode.used_at.is_(None),
        )
        .order_by(BackupCode.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def count_unused_backup_codes(session: AsyncSession, user_id: UUID) -> int:
    stmt = select(func.count()).where(
        BackupCode.tenant_id == _bound_tenant(),
        BackupCode.user_id == user_id,
        BackupCode.used_at.is_(None),
    )
    return int((await session.execute(stmt)).scalar_one())


async def mark_backup_code_used(session: AsyncSession, code: BackupCode, when: datetime) -> bool:
    """Mark `code` used unless another request already did; whether this call won."""
    stmt = (
        update(BackupCode)
        .where(
            BackupCode.tenant_id == code.tenant_id,
            BackupCode.id == code.id,
            BackupCode.used_at.is_(None),
        )
        .values(used_at=when)
        .returning(BackupCode.id)
        .execution_options(synchronize_session=False)
    )
    won = (await session.execute(stmt)).scalar_one_or_none() is not None
    if won:
        set_committed_value(code, "used_at", when)
    return won


async def delete_backup_codes(session: AsyncSession, user_id: UUID) -> None:
    """Remove every backup code of the user, used or not."""
    await session.execute(
        delete(BackupCode)
        .where(BackupCode.tenant_id == _bound_tenant(), BackupCode.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
