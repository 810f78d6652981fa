"""Another user's preferences as an administrator reads and changes them (spec §12.4
"Preferences" tab, §12.5 `GET/PUT /v1/admin/users/{id}/preferences`): the account's
language and timezone (what `/v1/me/settings` changes for oneself) and the notification
preferences (what `/v1/me/notification-preferences` changes for oneself).

Invariants: the user is fetched scoped first (another tenant's id is a 404, like a
missing one), and only then are the preferences read or written; the self-service
functions do the validation (422 per field) and the audit (`user.settings.updated`,
`notification.preferences.updated`, each with before / after), the actor being the
administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.tenancy.models import User
from m3crm.modules.identity import preferences
from m3crm.modules.identity.repository_users import UserRepository
from m3crm.modules.notify import preferences as notify_preferences
from m3crm.modules.notify.models import NotificationPreference

ACCOUNT_FIELDS = ("locale", "timezone")
"""The account settings an administrator may change for someone (display choices such
as theme and density stay the user's own)."""


@dataclass(frozen=True, slots=True)
class UserPreferences:
    locale: str
    timezone: str | None
    """IANA name; `None`: the workspace default."""
    notifications: NotificationPreference


async def _read(session: AsyncSession, subject: AuthSubject, user: User) -> UserPreferences:
    account = await preferences.settings_of(session, subject.tenant_id, user)
    return UserPreferences(
        locale=account.locale,
        timezone=account.timezone,
        notifications=await notify_preferences.effective(session, subject.tenant_id, user.id),
    )


async def read(session: AsyncSession, subject: AuthSubject, user_id: UUID) -> UserPreferences:
    user = await UserRepository(session, subject.tenant_id).get_or_404(user_id)
    return await _read(session, subject, user)


async def update(
    session: AsyncSession,
    subject: AuthSubject,
    user_id: UUID,
    *,
    account: dict[str, Any],
    notifications: dict[str, Any] | None,
) -> UserPreferences:
    """`account`: a subset of `ACCOUNT_FIELDS` (`timezone: None` returns to the workspace
    default); `notifications`: the self endpoint's fields (`None`: left alone). Account
    fields are validated before any notification preference is written."""
    user = await UserRepository(session, subject.tenant_id).get_or_404(user_id)
    changes = {k: v for k, v in account.items() if k in ACCOUNT_FIELDS}
    if changes:
        await preferences.update_settings_of(session, subject, user, changes)
    if notifications:
        await notify_preferences.update(session, subject, user.id, notifications)
    return await _read(session, subject, user)
