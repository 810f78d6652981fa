"""`/v1/admin/users/{id}/preferences` (spec §12.5): another user's language, timezone and
notification preferences. One body combines the two self-service endpoints:
`locale` / `timezone` as in `/v1/me/settings`, `notifications` as in
`/v1/me/notification-preferences` (the same schemas)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from m3crm.kernel.auth import AuthSubject, DbSession, require
from m3crm.kernel.errors import (
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.inputs import StorableModel
from m3crm.modules.identity import admin_preferences
from m3crm.modules.identity.admin_preferences import UserPreferences
from m3crm.modules.identity.api_users import UserReader
from m3crm.modules.notify.schemas import PreferencesIn, PreferencesOut

PreferenceManager = Annotated[AuthSubject, Depends(require("notify.preferences.update.user"))]

router = APIRouter(
    prefix="/v1/admin/users",
    tags=["users"],
    responses=error_responses(NotAuthenticated, PermissionDenied, NotFound),
)


class UserPreferencesOut(BaseModel):
    locale: Literal["en", "ar"]
    timezone: str | None = Field(description="IANA name; null means the workspace default.")
    notifications: PreferencesOut

    @classmethod
    def of(cls, found: UserPreferences) -> UserPreferencesOut:
        return cls.model_validate(
            {
                "locale": found.locale,
                "timezone": found.timezone,
                "notifications": PreferencesOut.model_validate(found.notifications),
            }
        )


class UserPreferencesIn(StorableModel):
    """Every part optional: what is left out stays as it is. `timezone: null` returns to
    the workspace default; `notifications` takes the fields of
    `PUT /v1/me/notification-preferences` (`locale: null` there: the account's language)."""

    locale: Literal["en", "ar"] | None = None
    timezone: str | None = Field(default=None, max_length=64)
    notifications: PreferencesIn | None = None


@router.get("/{user_id}/preferences", response_model=UserPreferencesOut)
async def user_preferences(
    user_id: UUID, session: DbSession, subject: UserReader
) -> UserPreferencesOut:
    """Needs `user.read` (as the person page's Preferences tab)."""
    return UserPreferencesOut.of(await admin_preferences.read(session, subject, user_id))


@router.put(
    "/{user_id}/preferences",
    response_model=UserPreferencesOut,
    responses=error_responses(ValidationFailed),
)
async def update_user_preferences(
    user_id: UUID, body: UserPreferencesIn, session: DbSession, subject: PreferenceManager
) -> UserPreferencesOut:
    """Needs `notify.preferences.update.user`. Audited `user.settings.updated` (language,
    timezone) and `notification.preferences.updated`, each with before / after."""
    sent = body.model_dump(exclude_unset=True, exclude={"notifications"})
    account = {k: v for k, v in sent.items() if v is not None or k == "timezone"}
    notifications = (
        body.notifications.model_dump(exclude_unset=True) if body.notifications else None
    )
    found = await admin_preferences.update(
        session, subject, user_id, account=account, notifications=notifications
    )
    return UserPreferencesOut.of(found)
