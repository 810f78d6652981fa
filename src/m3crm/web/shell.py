"""Per-request state of the signed-in shell: the user's display preferences and the
tenant's plan features, loaded once per full page.

`kernel.auth` calls `load_shell_state` (through its page-loader hook) after it resolves a
cookie-authenticated subject for a page request; `render` reads `request.state.shell`.
Without it (signed-out pages, htmx partials) `ShellState.default()` applies: light theme,
comfortable density, the deployment's timezone, and no plan features (so a plan-gated nav
item is never shown unlocked by mistake).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject, entitlements_of
from m3crm.kernel.i18n import HourCycle

Theme = Literal["light", "dark", "contrast"]
Density = Literal["comfortable", "compact"]


@dataclass(frozen=True, slots=True)
class ShellPreferences:
    """What a user chose for the look of every page; `timezone` is an IANA name (`None`:
    the deployment default)."""

    theme: Theme = "light"
    density: Density = "comfortable"
    time_format: HourCycle = "locale"
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class ShellState:
    preferences: ShellPreferences = field(default_factory=ShellPreferences)
    features: frozenset[str] = frozenset()

    @classmethod
    def default(cls) -> ShellState:
        return cls()


PreferencesLoader = Callable[[AsyncSession, AuthSubject], Awaitable[ShellPreferences]]


async def _default_preferences(session: AsyncSession, subject: AuthSubject) -> ShellPreferences:
    return ShellPreferences()


_preferences_loader: PreferencesLoader = _default_preferences


def register_preferences_loader(loader: PreferencesLoader) -> None:
    """The identity module (owner of user profiles) tells the shell where preferences live."""
    global _preferences_loader
    _preferences_loader = loader


async def load_shell_state(session: AsyncSession, request: Request, subject: AuthSubject) -> None:
    """Store the subject's preferences and plan features on `request.state.shell`."""
    entitlements = await entitlements_of(session, subject)
    request.state.shell = ShellState(
        preferences=await _preferences_loader(session, subject),
        features=frozenset(entitlements.features),
    )


def shell_state(request: Request) -> ShellState:
    state = getattr(request.state, "shell", None)
    return state if isinstance(state, ShellState) else ShellState.default()


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """`name` as a zone, else `fallback` (a stored zone that a tzdata update removed must
    not break pages)."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
