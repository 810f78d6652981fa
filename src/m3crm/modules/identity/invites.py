"""Invitations (spec §1.4): invite with roles, resend, revoke, accept.

Seats (`seats`): active and suspended users plus pending invitations count against the
plan's `users.max` (a `viewer`-only one counts none); an invitation that would exceed it
is refused (422 `LIMIT_REACHED`), and so is an acceptance when the seats were taken
meanwhile. The token is single-use, expires
after `INVITE_DAYS`, and carries its tenant (no pre-tenant lookup). Sending, resending
and accepting each tell the other admins, in the same transaction (`notices`).
The roles offered follow `check_roles`: nobody invites someone into a role granting a
permission they do not hold themselves (403), as for creating a user or giving a role.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef, SystemActor
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.entitlements import record_monthly_usage
from m3crm.kernel.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import Tenant, User
from m3crm.kernel.tenancy.service import create_user
from m3crm.modules.access.repository import roles_by_codes
from m3crm.modules.access.service import access, require_grantable
from m3crm.modules.identity import notices, repository, seats
from m3crm.modules.identity.models import Invite, UserProfile
from m3crm.modules.identity.one_time import InvalidToken
from m3crm.modules.identity.secrets import (
    check_password,
    hash_password,
    hash_token,
    new_token,
    token_tenant,
)
from m3crm.modules.notify.addresses import normalize_email
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel
from m3crm.settings import Settings

INVITE_DAYS = 7
INVITABLE_ROLES_EXCLUDED = frozenset({"super_admin"})


async def _send(
    session: AsyncSession, settings: Settings, notifier: Notifier, subject: Actor,
    invite: Invite, token: str, inviter: str,
) -> None:  # fmt: skip
    tenant = await session.get_one(Tenant, subject.tenant_id)
    await notifier.dispatch(
        session,
        subject,
        DispatchRequest(
            channel=Channel.EMAIL,
            to=invite.email,
            family="auth.invitation",
            payload={
                "accept_url": f"{settings.base_url.rstrip('/')}/accept-invite?token={token}",
                "workspace": tenant.name,
                "inviter": inviter,
            },
            locale=tenant.default_locale,
            correlation_key=f"invite:{invite.id}:{invite.sent_count}",
        ),
    )


async def _tell_admins(
    session: AsyncSession, subject: AuthSubject, event: notices.InviteEvent, row: Invite
) -> None:
    """The other admins hear that `subject` sent or resent the invitation."""
    await notices.invitation(
        session, subject.tenant_id, event, row,
        actor_id=subject.user_id, actor_name=subject.user.full_name or subject.user.email,
    )  # fmt: skip


async def check_roles(session: AsyncSession, subject: AuthSubject, roles: list[str]) -> None:
    """The roles someone may be invited or created with: at least one, none of
    `INVITABLE_ROLES_EXCLUDED`, each a role of the tenant (422 on `roles`), and none
    granting a permission `subject` lacks (403, `access.require_grantable`)."""
    wanted = list(dict.fromkeys(roles))
    if not wanted or any(r in INVITABLE_ROLES_EXCLUDED for r in wanted):
        raise ValidationFailed({"roles": N_("Choose at least one role you may give.")})
    found = await roles_by_codes(session, subject.tenant_id, wanted)
    if len(found) != len(wanted):
        raise ValidationFailed({"roles": N_("One of these roles does not exist.")})
    await require_grantable(session, subject, [r.id for r in found])


async def invite(
    session: AsyncSession,
    settings: Settings,
    notifier: Notifier,
    subject: AuthSubject,
    *,
    email: str,
    roles: list[str],
) -> Invite:
    email = normalize_email(email, field="email")
    roles = list(dict.fromkeys(roles))
    await check_roles(session, subject, roles)
    if await repository.user_by_email(session, email) is not None:
        raise Conflict(N_("This person is already a user here."))
    await seats.require_seat(session, subject.tenant_id, 1 if seats.roles_take_seat(roles) else 0)
    token, digest = new_token(subject.tenant_id)
    row = Invite(
        tenant_id=subject.tenant_id,
        email=email,
        role_codes=roles,
        inviter_id=subject.user_id,
        token_hash=digest,
        expires_at=datetime.now(UTC) + timedelta(days=INVITE_DAYS),
        sent_count=1,
    )
    try:
        async with session.begin_nested():  # a refusal leaves the session usable
            session.add(row)
            await session.flush()
    except IntegrityError:  # the pending-invitation unique index
        raise Conflict(N_("This person already has a pending invitation.")) from None
    await _send(session, settings, notifier, subject, row, token, subject.user.full_name)
    await _tell_admins(session, subject, notices.InviteEvent.SENT, row)
    await record_monthly_usage(session, subject.tenant_id, "invites.sent")
    await audit.record(
        session, subject, "user.invited", EntityRef("invite", row.id),
        after={"email": email, "roles": roles},
    )  # fmt: skip
    return row


async def _pending(session: AsyncSession, invite_id: UUID) -> Invite:
    row = await repository.invite(session, invite_id)
    if row is None:
        raise NotFound()
    if row.accepted_at is not None or row.revoked_at is not None:
        raise InvalidTransition("invite", "closed", "resent")
    return row


async def resend(
    session: AsyncSession, settings: Settings, notifier: Notifier, subject: AuthSubject,
    invite_id: UUID,
) -> Invite:  # fmt: skip
    """A new link (the old one stops working) and a fresh expiry."""
    row = await _pending(session, invite_id)
    token, digest = new_token(subject.tenant_id)
    row.token_hash = digest
    row.expires_at = datetime.now(UTC) + timedelta(days=INVITE_DAYS)
    row.sent_count += 1
    await session.flush()
    await _send(session, settings, notifier, subject, row, token, subject.user.full_name)
    await _tell_admins(session, subject, notices.InviteEvent.RESENT, row)
    await audit.record(
        session, subject, "user.invite.resent", EntityRef("invite", row.id),
        after={"sent_count": row.sent_count},
    )  # fmt: skip
    return row


async def revoke(session: AsyncSession, subject: AuthSubject, invite_id: UUID) -> Invite:
    row = await _pending(session, invite_id)
    row.revoked_at = datetime.now(UTC)
    await session.flush()
    await audit.record(session, subject, "user.invite.revoked", EntityRef("invite", row.id))
    return row


async def accept(session: AsyncSession, *, token: str, full_name: str, password: str) -> User:
    """Create the user with the invited roles; the e-mail counts as verified."""
    tenant_id = token_tenant(token)
    if tenant_id is None:
        raise InvalidToken()
    await bind_tenant(session, tenant_id, None)
    row = await repository.invite_by_hash(session, hash_token(token))
    now = datetime.now(UTC)
    if row is None or row.accepted_at or row.revoked_at or row.expires_at <= now:
        raise InvalidToken()
    check_password(password, row.email)
    if await repository.user_by_email(session, row.email) is not None:
        raise Conflict(N_("This person is already a user here."))
    row.accepted_at = now  # frees the invitation's seat for the user about to take it
    await session.flush()
    adding = 1 if seats.roles_take_seat(row.role_codes) else 0
    await seats.require_seat(session, TenantId(tenant_id), adding)
    user = await create_user(
        session, tenant_id=TenantId(tenant_id), email=row.email, full_name=full_name,
        is_verified=True, password_hash=hash_password(password),
    )  # fmt: skip
    session.add(UserProfile(tenant_id=tenant_id, user_id=user.id, failed_logins=0))
    for role in row.role_codes:
        await access.assign_role(session, TenantId(tenant_id), user.id, role)
    row.accepted_user_id = user.id
    await session.flush()
    await notices.invitation(
        session, TenantId(tenant_id), notices.InviteEvent.ACCEPTED, row,
        actor_id=user.id, actor_name=user.full_name or user.email,
    )  # fmt: skip
    await record_monthly_usage(session, TenantId(tenant_id), "users.created")
    await audit.record(
        session, SystemActor(TenantId(tenant_id), user.id), "user.invite.accepted",
        EntityRef("invite", row.id), after={"user_id": str(user.id), "roles": row.role_codes},
    )  # fmt: skip
    return user
