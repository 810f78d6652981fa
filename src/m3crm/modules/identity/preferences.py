"""The signed-in user's own display settings (spec §15.7): theme, density, language,
time format and timezone. Stored on `user_profiles` (language on `users.locale`); read
by the shell for every page (`web.shell.register_preferences_loader`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import EntityRef
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_, SUPPORTED_LOCALES
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import User
from m3crm.modules.identity import repository_phone as repo
from m3crm.modules.identity.models import Density, Theme, TimeFormat
from m3crm.web.shell import ShellPreferences

COMMON_TIMEZONES = (
    "Africa/Cairo",
    "Asia/Dubai",
    "Asia/Riyadh",
    "Asia/Qatar",
    "Asia/Kuwait",
    "Asia/Bahrain",
    "Asia/Muscat",
    "Europe/London",
    "UTC",
)


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    """IANA zone names this machine knows (tzdata), computed once."""
    return frozenset(available_timezones())


@dataclass(frozen=True, slots=True)
class UserSettings:
    theme: Theme
    density: Density
    time_format: TimeFormat
    timezone: str | None
    locale: str


EDITABLE = ("theme", "density", "time_format", "timezone", "locale")


async def read_settings(session: AsyncSession, subject: AuthSubject) -> UserSettings:
    return await settings_of(session, subject.tenant_id, subject.user)


async def settings_of(session: AsyncSession, tenant_id: TenantId, user: User) -> UserSettings:
    """Any user's display settings (read-only: the admin's Preferences tab); `user` must
    be a row of `tenant_id` (fetched scoped), the profile query names the tenant too."""
    profile = await repo.profile_of(session, tenant_id, user.id)
    return UserSettings(
        theme=profile.theme if profile else Theme.LIGHT,
        density=profile.density if profile else Density.COMFORTABLE,
        time_format=profile.time_format if profile else TimeFormat.LOCALE,
        timezone=profile.timezone if profile else None,
        locale=user.locale,
    )


async def shell_preferences(session: AsyncSession, subject: AuthSubject) -> ShellPreferences:
    """The shell's view of the settings (one indexed read per page)."""
    settings = await read_settings(session, subject)
    return ShellPreferences(
        theme=settings.theme.value,
        density=settings.density.value,
        time_format=settings.time_format.value,
        timezone=settings.timezone,
    )


def _validated(changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` as stored values; 422 with a message per bad field. Enum fields accept
    their values; `timezone` an IANA name or `None` (the deployment default)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, kind in (("theme", Theme), ("density", Density), ("time_format", TimeFormat)):
        if name in changes:
            try:
                clean[name] = kind(changes[name])
            except ValueError:
                errors[name] = N_("Choose one of the offered options.")
    if "timezone" in changes:
        zone = changes["timezone"] or None
        if zone is not None and zone not in known_timezones():
            errors["timezone"] = N_("Choose a timezone from the list.")
        clean["timezone"] = zone
    if "locale" in changes:
        if changes["locale"] not in SUPPORTED_LOCALES:
            errors["locale"] = N_("Choose one of the offered languages.")
        clean["locale"] = changes["locale"]
    if errors:
        raise ValidationFailed(errors)
    return clean


async def update_settings(
    session: AsyncSession, subject: AuthSubject, changes: dict[str, Any]
) -> UserSettings:
    """Apply `changes` (a subset of `EDITABLE`) to the signed-in user's own settings."""
    return await update_settings_of(session, subject, subject.user, changes)


async def update_settings_of(
    session: AsyncSession, actor: AuthSubject, user: User, changes: dict[str, Any]
) -> UserSettings:
    """Apply `changes` (a subset of `EDITABLE`) to `user`'s settings, by `actor` (the
    user themselves, or an administrator: `user` MUST then be fetched scoped to the
    actor's tenant). Audited `user.settings.updated` on `user` with the fields that
    really changed; nothing is written when nothing changed."""
    clean = _validated(changes)
    current = await settings_of(session, actor.tenant_id, user)
    before = {k: getattr(current, k) for k in clean if getattr(current, k) != clean[k]}
    if not before:
        return current
    profile = await repo.ensure_profile(session, actor.tenant_id, user.id)
    for name in before:
        target = user if name == "locale" else profile
        setattr(target, name, clean[name])
    await session.flush()
    await audit.record(
        session,
        actor,
        "user.settings.updated",
        EntityRef("user", user.id),
        before={k: str(v) if v is not None else None for k, v in before.items()},
        after={k: str(clean[k]) if clean[k] is not None else None for k in before},
    )
    return await settings_of(session, actor.tenant_id, user)
