"""E-mail links (`one_time_tokens`): e-mail verification, password reset and the welcome
link of a person an administrator created. Tokens are single use, stored hashed, bound to
their tenant (the token says which), and expire (`VERIFY_EMAIL_HOURS`, `RESET_MINUTES`,
`WELCOME_DAYS`); setting a password through a link proves the mailbox, so it marks the
e-mail verified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef, SystemActor
from m3crm.kernel.db.session import Database
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.identity import one_time, repository
from m3crm.modules.identity.models import TokenPurpose
from m3crm.modules.identity.one_time import InvalidToken
from m3crm.modules.identity.secrets import (
    check_password,
    hash_password,
    hash_token,
)
from m3crm.modules.notify.addresses import normalize_email
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel
from m3crm.settings import Settings

VERIFY_EMAIL_HOURS = 48
RESET_MINUTES = 30
WELCOME_DAYS = 7


async def _mail_link(
    session: AsyncSession, settings: Settings, notifier: Notifier, user: User, *,
    purpose: TokenPurpose, lifetime: timedelta, family: str, page: str, url_key: str,
    key: str, payload: dict[str, Any],
) -> None:  # fmt: skip
    """Issue a single-use token and e-mail `user` its link (`<base>/<page>?token=…` under
    `url_key`, with `name` and `payload`), in their language; keyed `<key>:<token digest>`
    so a retried dispatch sends once."""
    token = await one_time.issue(session, user, purpose, lifetime)
    url = f"{settings.base_url.rstrip('/')}/{page}?token={token}"
    await notifier.dispatch(
        session,
        SystemActor(TenantId(user.tenant_id), user.id),
        DispatchRequest(
            channel=Channel.EMAIL,
            to=user.email,
            family=family,
            payload={url_key: url, "name": user.full_name, **payload},
            locale=user.locale,
            correlation_key=f"{key}:{hash_token(token)[:32]}",
        ),
    )


async def send_verification(
    session: AsyncSession, settings: Settings, notifier: Notifier, user: User
) -> None:
    await _mail_link(
        session, settings, notifier, user, purpose=TokenPurpose.VERIFY_EMAIL,
        lifetime=timedelta(hours=VERIFY_EMAIL_HOURS), family="auth.verify_email",
        page="verify-email", url_key="verify_url", key="verify-email", payload={},
    )  # fmt: skip


async def verify_email(session: AsyncSession, token: str) -> User:
    row = await one_time.usable(session, token, TokenPurpose.VERIFY_EMAIL)
    user = await repository.user(session, row.user_id)
    if user is None:
        raise InvalidToken()
    row.used_at = datetime.now(UTC)
    await _mark_verified(session, user)
    return user


async def _mark_verified(session: AsyncSession, user: User) -> None:
    """The user proved the mailbox (a verification or password link): verified, audited
    `user.verified` once (nothing when it already was)."""
    if user.is_verified:
        return
    user.is_verified = True
    await audit.record(
        session, SystemActor(TenantId(user.tenant_id), user.id), "user.verified",
        EntityRef("user", user.id), before={"is_verified": False}, after={"is_verified": True},
    )  # fmt: skip


async def send_password_reset(
    session: AsyncSession, settings: Settings, notifier: Notifier, user: User, actor: Actor
) -> None:
    """A reset link by e-mail to `user` (the forgotten-password flow, and an admin's
    "reset password"); audited as `auth.password_reset.requested` by `actor`."""
    await _mail_link(
        session, settings, notifier, user, purpose=TokenPurpose.RESET_PASSWORD,
        lifetime=timedelta(minutes=RESET_MINUTES), family="auth.password_reset",
        page="reset-password", url_key="reset_url", key="reset",
        payload={"minutes": RESET_MINUTES},
    )  # fmt: skip
    await audit.record(session, actor, "auth.password_reset.requested", EntityRef("user", user.id))


async def send_welcome(
    session: AsyncSession, settings: Settings, notifier: Notifier, user: User, *,
    workspace: str, inviter: str,
) -> None:  # fmt: skip
    """The "choose your password" e-mail of an account an administrator created
    (`auth.welcome`). Its link is a password-reset token that lasts `WELCOME_DAYS`, so
    `/reset-password` sets the first password, and marks the e-mail verified: using the
    link proves the mailbox (`reset_password`)."""
    await _mail_link(
        session, settings, notifier, user, purpose=TokenPurpose.RESET_PASSWORD,
        lifetime=timedelta(days=WELCOME_DAYS), family="auth.welcome",
        page="reset-password", url_key="set_password_url", key="welcome",
        payload={"workspace": workspace, "inviter": inviter, "days": WELCOME_DAYS},
    )  # fmt: skip


async def request_password_reset(
    database: Database, settings: Settings, notifier: Notifier, email: str, workspace: str | None
) -> None:
    """Send a reset link in each workspace of this e-mail (or the one named). Answers the
    same whether or not the e-mail exists."""
    try:
        email = normalize_email(email, field="email")
    except ValidationFailed:
        return
    async with database.transaction() as session:
        candidates = await repository.login_candidates(session, email)
    for candidate in candidates:
        if workspace and candidate.slug != workspace:
            continue
        async with database.transaction(candidate.tenant_id, candidate.user_id) as session:
            user = await repository.user(session, candidate.user_id)
            if user is None:
                continue
            await send_password_reset(
                session, settings, notifier, user, SystemActor(TenantId(user.tenant_id), user.id)
            )


async def reset_password(session: AsyncSession, token: str, password: str) -> User:
    row = await one_time.usable(session, token, TokenPurpose.RESET_PASSWORD)
    user = await repository.user(session, row.user_id)
    if user is None or user.status is UserStatus.DEACTIVATED:
        raise InvalidToken()
    check_password(password, user.email)
    now = datetime.now(UTC)
    row.used_at = now
    user.password_hash = hash_password(password)
    await _mark_verified(session, user)  # the link proved the address
    profile = await repository.ensure_profile(session, user)
    profile.password_changed_at = now
    profile.failed_logins = 0
    profile.locked_until = None
    await repository.revoke_sessions(session, user.id, "password_reset", now)
    await audit.record(
        session, SystemActor(TenantId(user.tenant_id), user.id), "auth.password_reset",
        EntityRef("user", user.id),
    )  # fmt: skip
    return user
