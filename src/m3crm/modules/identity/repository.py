"""Queries of sign-in: sessions, refresh tokens, one-time tokens, invitations, profiles,
and the pre-tenant login lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    bindparam,
    exists,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.definers import LOGIN_CANDIDATES
from m3crm.kernel.tenancy.models import User
from m3crm.modules.identity.models import (
    AuthSession,
    Invite,
    OneTimeToken,
    RefreshToken,
    TokenPurpose,
    UserProfile,
)


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    tenant_id: UUID
    user_id: UUID
    slug: str
    tenant_name: str


async def login_candidates(session: AsyncSession, email: str) -> list[LoginCandidate]:
    """The workspaces where `email` may sign in (SECURITY DEFINER; ids, slug, name only)."""
    rows = await session.execute(
        text(f"SELECT * FROM {LOGIN_CANDIDATES.name}(:email)"), {"email": email}
    )
    return [LoginCandidate(r[0], r[1], r[2], r[3]) for r in rows.all()]


async def user(session: AsyncSession, user_id: UUID) -> User | None:
    return (await session.execute(select(User).where(User.id == user_id))).scalar_one_or_none()


async def ensure_profile(session: AsyncSession, user: User) -> UserProfile:
    """The user's profile row, created (with defaults) when they have none yet."""
    found = await profile(session, user.id)
    if found is None:
        found = UserProfile(tenant_id=user.tenant_id, user_id=user.id, failed_logins=0)
        session.add(found)
        await session.flush()
    return found


async def profile(session: AsyncSession, user_id: UUID) -> UserProfile | None:
    stmt = select(UserProfile).where(UserProfile.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def verified_phone(session: AsyncSession, user_id: UUID) -> str | None:
    """The user's verified phone (E.164), or None: the lookup behind notify's
    verified-phone policy. The session must be bound to the user's tenant."""
    stmt = select(UserProfile.phone_e164).where(
        UserProfile.user_id == user_id, UserProfile.phone_verified_at.is_not(None)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


_REFRESH_FAMILY = (
    select(RefreshToken, AuthSession, User)
    .join(
        AuthSession,
        (AuthSession.tenant_id == RefreshToken.tenant_id)
        & (AuthSession.id == RefreshToken.session_id),
    )
    .join(User, (User.tenant_id == AuthSession.tenant_id) & (User.id == AuthSession.user_id))
    .where(RefreshToken.token_hash == bindparam("token_hash", type_=String))
    .with_for_update(of=[RefreshToken, AuthSession])
)
"""Built once: a rotation's three lookups in one round trip. Token and session are
locked (`FOR UPDATE OF` both, as the two separate lookups did), the user is only read."""


async def refresh_family(
    session: AsyncSession, token_hash: str
) -> tuple[RefreshToken, AuthSession, User] | None:
    """The presented refresh token, its session (both locked) and the session's user."""
    row = (await session.execute(_REFRESH_FAMILY, {"token_hash": token_hash})).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def auth_session(session: AsyncSession, session_id: UUID) -> AuthSession | None:
    stmt = select(AuthSession).where(AuthSession.id == session_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def active_sessions(session: AsyncSession, user_id: UUID, now: datetime) -> list[AuthSession]:
    stmt = (
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.last_seen_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


def session_live_query(
    session_id: BindParameter[UUID], now: BindParameter[datetime]
) -> ColumnElement[bool]:
    """Whether the session still lives (not revoked, before its absolute expiry), as an
    EXISTS the kernel embeds in its per-request authentication statement."""
    return exists().where(
        AuthSession.id == session_id,
        AuthSession.revoked_at.is_(None),
        AuthSession.absolute_expires_at > now,
    )


async def revoke_sessions(
    session: AsyncSession, user_id: UUID, reason: str, now: datetime, *, keep: UUID | None = None
) -> int:
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def one_time_token(
    session: AsyncSession, token_hash: str, purpose: TokenPurpose
) -> OneTimeToken | None:
    stmt = (
        select(OneTimeToken)
        .where(OneTimeToken.token_hash == token_hash, OneTimeToken.purpose == purpose)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def invite_by_hash(session: AsyncSession, token_hash: str) -> Invite | None:
    stmt = select(Invite).where(Invite.token_hash == token_hash).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def invite(session: AsyncSession, invite_id: UUID) -> Invite | None:
    return (
        await session.execute(select(Invite).where(Invite.id == invite_id))
    ).scalar_one_or_none()


async def open_invites(session: AsyncSession, *, limit: int) -> list[Invite]:
    """Invitations neither accepted nor revoked, newest first, expired ones included (a
    resend gives them a fresh expiry)."""
    stmt = (
        select(Invite)
        .where(Invite.accepted_at.is_(None), Invite.revoked_at.is_(None))
        .order_by(Invite.created_at.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def open_invite_for(session: AsyncSession, tenant_id: UUID, email: str) -> Invite | None:
    """The tenant's invitation of `email` neither accepted nor revoked (expired or not:
    at most one, `uq_invites_pending_email`)."""
    stmt = select(Invite).where(
        Invite.tenant_id == tenant_id,
        Invite.email == email,
        Invite.accepted_at.is_(None),
        Invite.revoked_at.is_(None),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def pending_invites(session: AsyncSession, now: datetime) -> list[Invite]:
    stmt = (
        select(Invite)
        .where(Invite.accepted_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now)
        .order_by(Invite.created_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
