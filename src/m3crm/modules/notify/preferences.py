"""Per-user notification preferences (spec §2.3); a user without a row has the defaults.

The marketing switches are consent: turning one on or off also appends a consent event
(source `preferences`) to the user's `channel_opt_ins` history, so consent has one
history and its most recent event decides (`consent.check`), whichever way it was given.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.modules.notify import consent, repository
from m3crm.modules.notify.consent import ConsentSubject
from m3crm.modules.notify.models import (
    Channel,
    ConsentAction,
    NotificationPreference,
    SubjectType,
)

EDITABLE = (
    "email_on_sms",
    "email_on_whatsapp",
    "inbox_on_all",
    "marketing_email_opt_in",
    "marketing_sms_opt_in",
    "marketing_whatsapp_opt_in",
    "locale",
)

MARKETING_SWITCHES = {
    "marketing_email_opt_in": Channel.EMAIL,
    "marketing_sms_opt_in": Channel.SMS,
    "marketing_whatsapp_opt_in": Channel.WHATSAPP,
}
CONSENT_SOURCE = "preferences"


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
    after = as_dict(prefs)
    await audit.record(
        session,
        actor,
        "notification.preferences.updated",
        EntityRef("user", user_id),
        before=before,
        after=after,
    )
    await _record_switched_consent(session, actor, user_id, before, after)
    return prefs


async def reflect_consent(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, channel: Channel, action: ConsentAction
) -> None:
    """Show a consent event recorded elsewhere (the opt-in/opt-out endpoints) on the user's
    marketing switch, so the preferences screen shows what `consent.check` decides.
    Writes no consent event of its own (the caller recorded it)."""
    name = next((n for n, c in MARKETING_SWITCHES.items() if c is channel), None)
    if name is None:
        return
    prefs = await stored(session, user_id)
    if prefs is None:
        prefs = defaults(tenant_id, user_id)
        session.add(prefs)
    setattr(prefs, name, action is ConsentAction.OPT_IN)
    await session.flush()


async def _record_switched_consent(
    session: AsyncSession,
    actor: Actor,
    user_id: UUID,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """One consent event per marketing switch that changed (none for an unchanged one)."""
    for name, channel in MARKETING_SWITCHES.items():
        if before[name] == after[name]:
            continue
        await consent.record_consent(
            session,
            actor,
            subject=ConsentSubject(SubjectType.USER, user_id),
            channel=channel,
            action=ConsentAction.OPT_IN if after[name] else ConsentAction.OPT_OUT,
            source=CONSENT_SOURCE,
            text=name,
        )
