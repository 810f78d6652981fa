"""The "Settings" page (spec §15.7): theme, density, language, time format, timezone,
a link to notification preferences and the keyboard shortcut reference; and the signed-in
language switch of the top bar. Same service as `/v1/me/settings`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from m3crm.kernel.auth import DbSession, Subject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import LOCALE_COOKIE, N_, SUPPORTED_LOCALES, locale_name
from m3crm.modules.identity import preferences
from m3crm.modules.identity.models import Density, Theme, TimeFormat
from m3crm.modules.identity.preferences import COMMON_TIMEZONES, UserSettings, known_timezones
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

THEME_LABELS = {
    Theme.LIGHT: N_("Light"),
    Theme.DARK: N_("Dark"),
    Theme.CONTRAST: N_("High contrast"),
}
DENSITY_LABELS = {Density.COMFORTABLE: N_("Comfortable"), Density.COMPACT: N_("Compact")}
TIME_FORMAT_LABELS = {
    TimeFormat.LOCALE: N_("As my language writes it"),
    TimeFormat.H12: N_("12-hour clock (3:05 PM)"),
    TimeFormat.H24: N_("24-hour clock (15:05)"),
}
SHORTCUTS = (
    ("/", N_("Search everything")),
    ("Ctrl K · ⌘ K", N_("Open the command palette")),
    ("↑ ↓", N_("Move through results")),
    ("Enter", N_("Open the selected result")),
    ("Esc", N_("Close the search, palette or drawer")),
    ("g n", N_("Open notifications")),
    ("[", N_("Collapse or expand the menu")),
)
FormChoice = Annotated[str, Form(max_length=64)]


def _context(
    current: UserSettings,
    *,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    chosen = values or {
        "theme": current.theme.value,
        "density": current.density.value,
        "time_format": current.time_format.value,
        "timezone": current.timezone or "",
        "locale": current.locale,
    }
    others = sorted(known_timezones() - set(COMMON_TIMEZONES))
    return {
        "values": chosen,
        "saved": saved,
        "errors": errors or {},
        "themes": THEME_LABELS,
        "densities": DENSITY_LABELS,
        "time_formats": TIME_FORMAT_LABELS,
        "common_timezones": COMMON_TIMEZONES,
        "other_timezones": others,
        "locale_choices": [(code, locale_name(code)) for code in SUPPORTED_LOCALES],
        "shortcuts": SHORTCUTS,
    }


@router.get("/account/settings", response_class=HTMLResponse)
async def settings_page(request: Request, session: DbSession, subject: Subject) -> HTMLResponse:
    current = await preferences.read_settings(session, subject)
    return render(request, "identity/settings.html", _context(current))


@router.post("/account/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    session: DbSession,
    subject: Subject,
    theme: FormChoice = "",
    density: FormChoice = "",
    time_format: FormChoice = "",
    timezone: FormChoice = "",
    locale: FormChoice = "",
) -> HTMLResponse:
    """Save the form; the whole page reloads so the new look and language apply at once."""
    values = {
        "theme": theme,
        "density": density,
        "time_format": time_format,
        "timezone": timezone,
        "locale": locale,
    }
    before = await preferences.read_settings(session, subject)
    try:
        after = await preferences.update_settings(session, subject, values)
    except ValidationFailed as invalid:
        errors: dict[str, str] = invalid.details.get("fields", {})
        context = _context(before, errors=errors, values=values)
        return render(request, "identity/_settings_form.html", context, status_code=422)
    response = render(request, "identity/_settings_form.html", _context(after, saved=True))
    if after != before:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/account/language/{code}")
async def switch_language(
    request: Request, code: str, session: DbSession, subject: Subject
) -> Response:
    """The top bar's language switch for a signed-in user: saved on the account (so it
    follows them to other devices) and in the cookie (for the sign-in page). Like every
    cookie write, it must come from our pages (`HX-Request`; checked by the subject)."""
    if code not in SUPPORTED_LOCALES:
        raise ValidationFailed({"locale": N_("Choose one of the offered languages.")})
    await preferences.update_settings(session, subject, {"locale": code})
    response = Response(status_code=204, headers={"HX-Refresh": "true"})
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response
