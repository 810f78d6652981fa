"""Sessions and refresh-token rotation (spec §1.6, DECISIONS §1.6).

A session is one refresh-token family. Each refresh presents the family's newest token,
marks it used and receives a new one; the session slides to `now + refresh_token_days`
but never past `absolute_expires_at`. Presenting a token already used means it was
stolen or replayed: the whole session is revoked (`auth.token.reused`, audited) and the
caller gets 401 `AUTH_TOKEN_REUSED`. Access tokens carry the session id, and every
request checks the session is still live, so a revoked session stops at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import EntityRef, SystemActor
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.db.session import Database
from m3crm.kernel.errors import NotAuthenticated
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.identity import repository
from m3crm.modules.identity.models import AuthSession, RefreshToken
from m3crm.modules.identity.secrets import hash_token, new_token, token_tenant
from m3crm.settings import Settings


class TokenReused(NotAuthenticated):
    code = "AUTH_TOKEN_REUSED"
    default_message = N_("This sign-in was used elsewhere; sign in again.")


@dataclass(frozen=True, slots=True)
class Issued:
    """What a successful sign-in or refresh hands back."""

    access_token: str
    refresh_token: str
    session_id: UUID
    expires_in: int
    user_id: UUID
    tenant_id: UUID


async def start_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
) -> Issued:
    now = datetime.now(UTC)
    auth_session = AuthSession(
        tenant_id=user.tenant_id,
        user_id=user.id,
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
        absolute_expires_at=now + timedelta(days=settings.refresh_absolute_days),
    )
    session.add(auth_session)
    await session.flush()
    user.last_login_at = now
    return await _issue(session, settings, auth_session)


async def sign_in(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
    method: str,
) -> Issued:
    """A new session for `user`, audited `auth.login` with how they proved who they are
    (`password`, a second factor, `signup`, `invitation`): every way in leaves the row."""
    issued = await start_session(session, settings, user, ip=ip, user_agent=user_agent)
    await audit.record(
        session, SystemActor(TenantId(user.tenant_id), user.id), "auth.login",
        EntityRef("session", issued.session_id),
        after={"method": method, "ip": ip, "user_agent": user_agent},
    )  # fmt: skip
    return issued


async def _issue(session: AsyncSession, settings: Settings, auth_session: AuthSession) -> Issued:
    issued = _add_token(session, settings, auth_session)
    await session.flush()
    return issued


def _add_token(session: AsyncSession, settings: Settings, auth_session: AuthSession) -> Issued:
    """Add the session's next refresh token (written at the caller's next flush) and
    mint the access token that goes with it."""
    token, digest = new_token(auth_session.tenant_id)
    session.add(
        RefreshToken(
            tenant_id=auth_session.tenant_id, session_id=auth_session.id, token_hash=digest
        )
    )
    access = mint_access_token(
        settings,
        tenant_id=auth_session.tenant_id,
        user_id=auth_session.user_id,
        session_id=auth_session.id,
    )
    return Issued(
        access_token=access,
        refresh_token=token,
        session_id=auth_session.id,
        expires_in=settings.access_token_minutes * 60,
        user_id=auth_session.user_id,
        tenant_id=auth_session.tenant_id,
    )


async def rotate(session: AsyncSession, settings: Settings, token: str) -> Issued:
    """Exchange a refresh token (the session must be bound to the token's tenant).

    Raises `TokenReused` after revoking the session when the token was used before; the
    caller must commit before answering so the revocation sticks.
    """
    now = datetime.now(UTC)
    family = await repository.refresh_family(session, hash_token(token))
    if family is None:
        raise NotAuthenticated(N_("Sign in again."))
    presented, auth_session, user = family
    if presented.used_at is not None:
        if auth_session.revoked_at is None:
            auth_session.revoked_at = now
            auth_session.revoked_reason = "token_reused"
            await audit.record(
                session,
                SystemActor(TenantId(auth_session.tenant_id), auth_session.user_id),
                "auth.token.reused",
                EntityRef("session", auth_session.id),
                after={"ip": auth_session.ip},
            )
        raise TokenReused()
    if (
        auth_session.revoked_at is not None
        or auth_session.expires_at <= now
        or auth_session.absolute_expires_at <= now
        or user.status is not UserStatus.ACTIVE
    ):
        raise NotAuthenticated(N_("Sign in again."))
    presented.used_at = now
    auth_session.last_seen_at = now
    auth_session.expires_at = min(
        now + timedelta(days=settings.refresh_token_days), auth_session.absolute_expires_at
    )
    # The new token is added before the audit row, whose flush then writes the rotation
    # (old token used, session slid, new token, audit) in one unit of work.
    issued = _add_token(session, settings, auth_session)
    await audit.record(
        session, SystemActor(TenantId(auth_session.tenant_id), auth_session.user_id),
        "auth.refresh_rotated", EntityRef("session", auth_session.id),
    )  # fmt: skip
    return issued


async def refresh(database: Database, settings: Settings, token: str) -> Issued:
    """Rotate `token` in a transaction of its own, bound to the token's tenant.

    Every refresh path (the API's `/v1/auth/refresh`, the browser's session resume) goes
    through here: when the token was used before, the family's revocation and its
    `auth.token.reused` audit row are committed first, and only then is `TokenReused`
    raised, so a rolled-back request can never undo the revocation.
    """
    tenant_id = token_tenant(token)
    if tenant_id is None:
        raise NotAuthenticated(N_("Sign in again."))
    reused: TokenReused | None = None
    async with database.transaction(tenant_id) as session:
        try:
            return await rotate(session, settings, token)
        except TokenReused as exc:
            reused = exc  # leave the block normally: the revocation commits
    raise reused


async def revoke(
    session: AsyncSession, actor: audit.Actor, auth_session: AuthSession, reason: str
) -> None:
    if auth_session.revoked_at is not None:
        return
    auth_session.revoked_at = datetime.now(UTC)
    auth_session.revoked_reason = reason
    await session.flush()
    action = "auth.logout" if reason == "logout" else "session.revoked"
    await audit.record(
        session, actor, action, EntityRef("session", auth_session.id),
        after={"reason": reason, "user_id": str(auth_session.user_id)},
    )  # fmt: skip


async def revoke_others(session: AsyncSession, subject: AuthSubject) -> int:
    """End every live session of the signed-in user but the current one (audited as
    `session.revoked_others` with the count); the API and the sessions page share it."""
    count = await repository.revoke_sessions(
        session, subject.user_id, "revoked_by_user", datetime.now(UTC), keep=subject.session_id
    )
    await audit.record(
        session, subject, "session.revoked_others", EntityRef("user", subject.user_id),
        after={"revoked": count},
    )  # fmt: skip
    return count
