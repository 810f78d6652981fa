""" "Request access" and "Ask for an upgrade": the calls to action of a refused page.

A person who meets a 403 (missing permission) or a 402 (plan lacks a feature) can ask the
workspace's administrators, who get an inbox notice linking to the page. The request is
idempotent per person, page and day, so repeated clicks never flood the admins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.access.repository import active_users_with_permission
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel, InboxCategory, Severity
from m3crm.modules.notify.throttle import NoThrottle

Kind = Literal["access", "upgrade"]
FAMILY = "access.requested"
ADMIN_PERMISSION = "role.assign"
"""Who can grant access (and, in this release, ask billing for an upgrade)."""


def local_path(path: str) -> str:
    """`path` when it is a path of this site (never another host); 422 otherwise."""
    if not path.startswith("/") or path.startswith(("//", "/\\")) or len(path) > 300:
        raise ValidationFailed({"path": N_("This page cannot be requested.")})
    return path


async def request_access(
    session: AsyncSession, subject: AuthSubject, *, kind: Kind, path: str, what: str
) -> int:
    """Notify every administrator (inbox); the number notified (0: nobody can grant it)."""
    target = local_path(path)
    admins = await active_users_with_permission(session, subject.tenant_id, ADMIN_PERMISSION)
    day = datetime.now(UTC).date().isoformat()
    requester = subject.card.full_name or subject.card.email
    notifier = Notifier(NoThrottle())
    notified = 0
    for admin_id in admins:
        if admin_id == subject.user_id:
            continue
        await notifier.dispatch(
            session,
            SystemActor(subject.tenant_id),
            DispatchRequest(
                channel=Channel.INBOX,
                family=FAMILY,
                payload={"requester": requester, "what": what, "kind": kind},
                recipient_user_id=admin_id,
                correlation_key=f"access-request:{subject.user_id}:{admin_id}:{kind}:{target}:{day}",
                link_url=target,
                category=InboxCategory.APPROVALS,
                severity=Severity.INFO,
            ),
        )
        notified += 1
    return notified
