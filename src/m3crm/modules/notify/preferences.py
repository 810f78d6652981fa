"""Per-user notification preferences (spec §2.3); a user without a row has the defaults."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.modules.notify import repository
from m3crm.modules.notify.models import NotificationPreference

EDITABLE = (
    "email_on_sms",
    "email_on_whatsapp",
    "inbox_on_all",
    "marketing_email_opt_in",
    "marketing_sms_opt_in",
    "marketing_whatsapp_opt_in",
    "locale",
)


def defaults(tenant_id: UUID, user_id: UUID) -> NotificationPreference:
    return NotificationPreference(
        tenant_id=tenant_id,
        user_id=user_id,
        email_on_sms=True,
        email_on_whatsapp=True,
        inbox_on_all=True,
        marketing_email_opt_in=False,
        marketing_sms_opt_in=False,
        marketing_whatsapp_opt_in=False,
        locale=None,
    )


async def stored(session: AsyncSession, user_id: UUID) -> NotificationPreference | None:
    return await repository.stored_preferences(session, user_id)


async def effective(
    session: AsyncSession, tenant_id: UUID, user_id: UUID
) -> NotificationPreference:
    return await stored(session, user_id) or defaults(tenant_id, user_id)


def as_dict(prefs: NotificationPreference) -> dict[str, Any]:
    return {name: getattr(prefs, name) for name in EDITABLE}


async def update(
    session: AsyncSession, actor: Actor, user_id: UUID, changes: dict[str, Any]
) -> NotificationPreference:
    prefs = await stored(session, user_id)
    if prefs is None:
        prefs = defaults(actor.tenant_id, user_id)
        session.add(prefs)
    before = as_dict(prefs)
    for name, value in changes.items():
        # `null` clears the locale (back to the account's); for a switch it changes nothing.
        if name in EDITABLE and (value is not None or name == "locale"):
            setattr(prefs, name, value)
    await session.flush()
    await audit.record(
        session,
        actor,
        "notification.preferences.updated",
        EntityRef("user", user_id),
        before=before,
        after=as_dict(prefs),
    )
    return prefs
