"""Jinja2 rendering with the request's locale, direction and translations.

Templates are found in `web/templates` and in every module's `templates/` folder
(`modules/<domain>/templates/<domain>/...`), so a module's pages live with its code.

Translations are passed in each render's context, never installed on the shared
environment: concurrent requests in different languages cannot see each other's catalog.
Templates therefore translate with `{{ _("...") }}` (or `{% trans %}`); a macro imported
from another file needs `{% import ... with context %}` to see `_`.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from m3crm.kernel import i18n
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.i18n import (
    LOCALE_COOKIE,
    SUPPORTED_LOCALES,
    get_translations,
    locale_name,
    negotiate_locale,
    text_direction,
)
from m3crm.web.assets import asset_url
from m3crm.web.commands import KIND_LABELS, create_commands, visible_commands
from m3crm.web.nav import nav_sections, visible_nav
from m3crm.web.shell import shell_state, zone

__all__ = ["LOCALE_COOKIE", "environment", "render", "request_locale"]

_ROOT = Path(__file__).resolve().parents[1]

environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(str(_ROOT / "web" / "templates")),
            *(FileSystemLoader(str(p)) for p in sorted((_ROOT / "modules").glob("*/templates"))),
        ]
    ),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["asset_url"] = asset_url
environment.globals["locales"] = [(code, locale_name(code)) for code in SUPPORTED_LOCALES]


def request_locale(request: Request) -> str:
    """The locale of this request; always one of `SUPPORTED_LOCALES`.

    `request.state.locale` (set by a route from the signed-in user's preference) wins when it
    is supported; otherwise `?lang=`, the `m3crm_locale` cookie, then Accept-Language. An
    htmx request without its own `?lang=` inherits the one of the page that sent it
    (`HX-Current-URL`), so a partial never comes back in another language than its page.
    """
    chosen: object = getattr(request.state, "locale", None)
    if isinstance(chosen, str) and chosen in SUPPORTED_LOCALES:
        return chosen
    query = request.query_params.get("lang")
    if query is None and request.headers.get("hx-request") == "true":
        page = urlsplit(request.headers.get("hx-current-url", "")).query
        query = next(iter(parse_qs(page).get("lang", [])), None)
    return negotiate_locale(
        query, request.cookies.get(LOCALE_COOKIE), request.headers.get("accept-language")
    )


def language_switch_url(request: Request, code: str) -> str:
    """`/lang/<code>?next=<this page>`: the switch sets the cookie and comes back here.

    `lang` is dropped from the page's query so the cookie, not a stale `?lang=`, decides.
    """
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    here = request.url.path + (f"?{urlencode(query)}" if query else "")
    return f"/lang/{code}?{urlencode({'next': here})}"


def _locale_helpers(locale: str, tz: tzinfo, hour_cycle: i18n.HourCycle) -> dict[str, Any]:
    """Formatting functions bound to `locale` and the viewer's timezone and clock."""

    def fmt_datetime(value: datetime | None, format: str = "short") -> str:
        return i18n.format_datetime(value, locale, format=format, tz=tz, hour_cycle=hour_cycle)

    def fmt_date(value: date | None, format: str = "medium") -> str:
        return i18n.format_date(value, locale, format=format)

    def fmt_time(value: time | datetime | None, format: str = "short") -> str:
        return i18n.format_time(value, locale, format=format, tz=tz, hour_cycle=hour_cycle)

    def fmt_decimal(value: int | Decimal | None) -> str:
        return i18n.format_decimal(value, locale)

    def fmt_currency(value: Decimal | None, currency: str) -> str:
        return i18n.format_currency(value, currency, locale)

    def fmt_country(code: str | None) -> str:
        return i18n.country_name(code, locale)

    return {
        "format_country": fmt_country,
        "format_datetime": fmt_datetime,
        "format_date": fmt_date,
        "format_time": fmt_time,
        "format_decimal": fmt_decimal,
        "format_currency": fmt_currency,
    }


def _shell_context(request: Request, subject: AuthSubject | None) -> dict[str, Any]:
    """Navigation, palette commands and preferences of the signed-in shell."""
    shell = shell_state(request)
    nav = visible_nav(subject, shell.features)
    commands = visible_commands(subject, shell.features, nav) if subject else []
    return {
        "preferences": shell.preferences,
        "nav_sections": nav_sections(nav),
        "commands": commands,
        "create_commands": create_commands(commands),
    }


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render `template` in the request's language and direction.

    Every template sees `request`, `locale`, `dir`, `_`/`gettext`/`ngettext`, `asset_url`,
    `language_url(code)` and the `format_*` helpers; `context` may override none of
    `locale`, `dir` or `_` (they are applied last).
    """
    subject: AuthSubject | None = getattr(request.state, "subject", None)
    if subject is not None and getattr(request.state, "locale", None) is None:
        request.state.locale = subject.card.locale
    locale = request_locale(request)
    translations = get_translations(locale)
    shell = _shell_context(request, subject)
    preferences = shell["preferences"]
    settings = getattr(request.app.state, "settings", None)
    tz = zone(preferences.timezone, settings.default_timezone if settings else "UTC")
    values: dict[str, Any] = {
        **_locale_helpers(locale, tz, preferences.time_format),
        **shell,
        **(context or {}),
        "request": request,
        "subject": subject,
        "locale": locale,
        "dir": text_direction(locale),
        "_": translations.gettext,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "language_url": lambda code: language_switch_url(request, code),
        "palette_commands": [
            {
                "id": command.id,
                "label": translations.gettext(command.label),
                "group": translations.gettext(KIND_LABELS[command.kind]),
                "path": command.path,
            }
            for command in shell["commands"]
        ],
    }
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)
