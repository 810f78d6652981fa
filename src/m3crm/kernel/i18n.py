"""Locales (English, Arabic), text direction and gettext catalogs (Babel).

Pure functions: no web framework here. Pages resolve the locale with
`negotiate_locale` and render with `get_translations(locale)`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel import negotiate_locale as babel_negotiate
from babel.support import NullTranslations, Translations

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "ar")
DEFAULT_LOCALE = "en"
RTL_LOCALES = frozenset({"ar"})
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"


def text_direction(locale: str) -> Literal["ltr", "rtl"]:
    return "rtl" if locale in RTL_LOCALES else "ltr"


def _supported(value: str | None) -> str | None:
    if not value:
        return None
    short = value.strip().lower().replace("_", "-").split("-")[0]
    return short if short in SUPPORTED_LOCALES else None


def negotiate_locale(
    query_value: str | None, cookie_value: str | None, accept_language: str | None
) -> str:
    """`?lang=` wins, then the `m3crm_locale` cookie, then Accept-Language, then English."""
    for explicit in (query_value, cookie_value):
        found = _supported(explicit)
        if found:
            return found
    if accept_language:
        preferred = [
            part.split(";")[0].strip().replace("-", "_")
            for part in accept_language.split(",")
            if part.strip()
        ]
        found = babel_negotiate(preferred, list(SUPPORTED_LOCALES), sep="_")
        if found:
            return _supported(found) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def get_translations(locale: str) -> NullTranslations:
    """Compiled catalog of `locale`; untranslated text falls back to English."""
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(locale: str, message: str) -> str:
    return get_translations(locale).gettext(message)


def locale_name(locale: str) -> str:
    """The locale's own name for a language switcher ("English", "العربية")."""
    return str(Locale.parse(locale).display_name)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message
