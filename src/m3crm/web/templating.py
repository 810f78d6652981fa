"""Jinja2 rendering with the request's locale, direction and translations.

Templates are found in `web/templates` and in every module's `templates/` folder
(`modules/<domain>/templates/<domain>/...`), so a module's pages live with its code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from m3crm.kernel.i18n import (
    SUPPORTED_LOCALES,
    get_translations,
    locale_name,
    negotiate_locale,
    text_direction,
)
from m3crm.web.assets import asset_url

LOCALE_COOKIE = "m3crm_locale"
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
    """`request.state.locale` (set from the signed-in user) wins; else negotiate."""
    chosen: str | None = getattr(request.state, "locale", None)
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return negotiate_locale(
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
    )


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    locale = request_locale(request)
    translations = get_translations(locale)
    values: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "dir": text_direction(locale),
        "_": translations.gettext,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "format_datetime": lambda value: (
            format_datetime(value, "short", locale=locale) if value else ""
        ),
        **(context or {}),
    }
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)
