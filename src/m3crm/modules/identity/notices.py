"""Notices of invitations and account status changes (spec Section 12 §7).

Who is told what, and when:
- An invitation **sent**, **resent** or **accepted**: every active holder of
  `user.invite` (the workspace's owners and admins) gets an e-mail and an inbox entry
  (`user.invitation_sent`, `user.invitation_resent`, `user.invitation_accepted`),
  except the person who acted: an inviter is not told of their own invitation, and a
  newcomer invited as an admin is not told that they joined. The inviter is told when
  their invitation is accepted.
- A user **suspended**, **deactivated** or **reinstated**: that user gets an e-mail and
  an inbox entry (`user.suspended`, `user.deactivated`, `user.reinstated`). They cannot
  sign in while suspended or deactivated, so the e-mail is what reaches them; the entry
  waits in their inbox for when they are back.

Invariants:
- Everything goes through `Notifier.dispatch` in the caller's transaction, called after
  the action succeeded: a refused action (an error before the call, or a rollback) sends
  nothing. A failing dispatch fails the action, like the invitee's own e-mail does.
- Messages are transactional (consent and marketing preferences do not block them), sent
  as the system (`SystemActor`, no per-minute throttle), in the recipient's locale.
- Every message has a `correlation_key` naming the event, the recipient and the channel,
  so a repeated dispatch of the same event writes nothing: an invitation sent or accepted
  once per invitation; a resend per `sent_count`; a status change per its audit row.
- No SMS or WhatsApp (the spec leaves mirroring optional).

`send_to_user` (e-mail + inbox to one user) is also how the seat-limit report reaches
the admins (`seats.report_seat_limit`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import Tenant, User, UserStatus
from m3crm.modules.access.repository import active_users_with_permission
from m3crm.modules.identity.models import Invite
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel, InboxCategory, Severity
from m3crm.modules.notify.throttle import NoThrottle

ADMIN_PERMISSION = "user.invite"
"""Who hears of invitations: those who can invite."""
CHANNELS = (Channel.EMAIL, Channel.INBOX)


class InviteEvent(enum.StrEnum):
    SENT = "sent"
    RESENT = "resent"
    ACCEPTED = "accepted"


INVITE_FAMILIES: Mapping[InviteEvent, str] = {
    InviteEvent.SENT: "user.invitation_sent",
    InviteEvent.RESENT: "user.invitation_resent",
    InviteEvent.ACCEPTED: "user.invitation_accepted",
}
STATUS_FAMILIES: Mapping[UserStatus, str] = {
    UserStatus.SUSPENDED: "user.suspended",
    UserStatus.DEACTIVATED: "user.deactivated",
    UserStatus.ACTIVE: "user.reinstated",
}
_STATUS_SEVERITY: Mapping[UserStatus, Severity] = {
    UserStatus.SUSPENDED: Severity.WARNING,
    UserStatus.DEACTIVATED: Severity.WARNING,
    UserStatus.ACTIVE: Severity.SUCCESS,
}


async def invitation(
    session: AsyncSession,
    tenant_id: TenantId,
    event: InviteEvent,
    invite: Invite,
    *,
    actor_id: UUID,
    actor_name: str,
) -> int:
    """Tell the tenant's admins, except `actor_id`, that `invite` was sent, resent or
    accepted by `actor_name`; the number of admins told. Call after the event is
    flushed (a resend after `sent_count` grew, an acceptance once the user exists)."""
    tenant = await session.get_one(Tenant, tenant_id)
    payload = {
        "email": invite.email,
        "actor": actor_name,
        "workspace": tenant.name,
        "roles": ", ".join(invite.role_codes),
    }
    link = (
        f"/admin/users/{invite.accepted_user_id}"
        if event is InviteEvent.ACCEPTED and invite.accepted_user_id
        else "/admin/users"
    )
    told = 0
    for admin_id in await active_users_with_permission(session, tenant_id, ADMIN_PERMISSION):
        if admin_id == actor_id:
            continue
        await send_to_user(
            session,
            tenant_id,
            admin_id,
            INVITE_FAMILIES[event],
            payload,
            key=f"invite-notice:{invite.id}:{event.value}:{invite.sent_count}:{admin_id}",
            link_url=link,
            severity=Severity.SUCCESS if event is InviteEvent.ACCEPTED else Severity.INFO,
        )
        told += 1
    return told


async def status_changed(
    session: AsyncSession, tenant_id: TenantId, user: User, event_id: UUID
) -> None:
    """Tell `user` their account was suspended, deactivated or reinstated (by
    `user.status`, already changed); `event_id` is the change's audit row, one per
    transition, so each transition is told once."""
    tenant = await session.get_one(Tenant, tenant_id)
    await send_to_user(
        session,
        tenant_id,
        user.id,
        STATUS_FAMILIES[user.status],
        {"workspace": tenant.name, "name": user.full_name},
        key=f"user-status:{user.id}:{event_id}",
        link_url=None,
        severity=_STATUS_SEVERITY[user.status],
    )


async def send_to_user(
    session: AsyncSession,
    tenant_id: TenantId,
    recipient_id: UUID,
    family: str,
    payload: Mapping[str, Any],
    *,
    key: str,
    link_url: str | None,
    severity: Severity,
) -> None:
    """One e-mail (to the user's address) and one inbox entry, each its own dispatch
    (an e-mail never mirrors to the inbox), keyed `key:<channel>`."""
    notifier = Notifier(NoThrottle())
    for channel in CHANNELS:
        await notifier.dispatch(
            session,
            SystemActor(tenant_id),
            DispatchRequest(
                channel=channel,
                family=family,
                payload=payload,
                recipient_user_id=recipient_id,
                correlation_key=f"{key}:{channel.value}",
                link_url=link_url,
                category=InboxCategory.SYSTEM,
                severity=severity,
            ),
        )
