"""Locales (English, Arabic), text direction, gettext catalogs and Babel formats.

Domain-free and framework-free: this module never imports FastAPI, `m3crm.web` or a module.
Pages resolve the locale with `negotiate_locale` and render with `get_translations(locale)`;
every function that takes a `locale` expects one of `SUPPORTED_LOCALES` (anything else falls
back to English text, left-to-right).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel import dates as babel_dates
from babel import negotiate_locale as babel_negotiate
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "ar")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "m3crm_locale"
RTL_LOCALES = frozenset({"ar"})
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def text_direction(locale: str) -> Literal["ltr", "rtl"]:
    """`"rtl"` for right-to-left scripts (Arabic), else `"ltr"`: the value of `<html dir>`."""
    return "rtl" if locale in RTL_LOCALES else "ltr"


def _supported(value: str | None) -> str | None:
    """The supported language of a tag such as `ar`, `ar-EG` or `AR_eg`, or None."""
    if not value:
        return None
    language = value.strip().lower().replace("_", "-").split("-")[0]
    return language if language in SUPPORTED_LOCALES else None


def _accept_language_preferences(header: str) -> list[str]:
    """Language tags of an Accept-Language header, best first (`q` honoured, `q=0` dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_locale(
    query_value: str | None, cookie_value: str | None, accept_language: str | None
) -> str:
    """The locale of a request; always one of `SUPPORTED_LOCALES`.

    Precedence: the `?lang=` query value, then the `m3crm_locale` cookie, then the browser's
    Accept-Language (by quality), then `DEFAULT_LOCALE`. Unsupported or malformed values are
    skipped, never an error: all three inputs are untrusted client data.
    """
    for explicit in (query_value, cookie_value):
        found = _supported(explicit)
        if found:
            return found
    if accept_language:
        preferred = _accept_language_preferences(accept_language)
        match = babel_negotiate(preferred, list(SUPPORTED_LOCALES), sep="_")
        found = _supported(match)
        if found:
            return found
    return DEFAULT_LOCALE


@lru_cache(maxsize=len(SUPPORTED_LOCALES) + 1)
def get_translations(locale: str) -> NullTranslations:
    """The compiled catalog (`locale/<locale>/LC_MESSAGES/messages.mo`) of `locale`.

    Cached for the life of the process. When the catalog is not compiled (`make locales`) or
    the locale is unknown, a `NullTranslations` is returned: text shows in English, it never
    raises.
    """
    return Translations.load(str(LOCALE_DIR), [locale], domain=DOMAIN)


def gettext(locale: str, message: str) -> str:
    """`message` translated into `locale` (the message itself when it has no translation)."""
    return get_translations(locale).gettext(message)


def ngettext(locale: str, singular: str, plural: str, count: int) -> str:
    """The plural form of `locale` for `count` (Arabic has six)."""
    return get_translations(locale).ngettext(singular, plural, count)


def locale_name(locale: str) -> str:
    """The locale's own name, for a language switcher ("English", "العربية")."""
    return str(Locale.parse(locale).display_name)


def country_name(code: str | None, locale: str) -> str:
    """The name of ISO 3166 region `code` in `locale` ("Egypt", "مصر"); the code itself when
    Babel does not know it, "" for None."""
    if not code:
        return ""
    return str(Locale.parse(locale).territories.get(code.upper(), code))


HourCycle = Literal["locale", "h12", "h24"]
"""How times show: the language's convention, or a 12- or 24-hour clock the user chose."""

_HOUR_SKELETON = {"h12": "hm", "h24": "Hm"}


def _local(value: datetime, tz: tzinfo | None) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(tz or UTC)


def format_datetime(
    value: datetime | None,
    locale: str,
    *,
    format: str = "medium",
    tz: tzinfo | None = None,
    hour_cycle: HourCycle = "locale",
) -> str:
    """Date and time in the locale's conventions; empty for None.

    Shown in `tz` (e.g. `ZoneInfo("Africa/Cairo")`), else in UTC; a naive value is taken as
    UTC. With `hour_cycle` other than `locale`, the time uses that clock and no seconds; the
    date part and the way the two join stay the locale's own.
    """
    if value is None:
        return ""
    if hour_cycle == "locale":
        return babel_dates.format_datetime(value, format, tzinfo=tz, locale=locale)
    local = _local(value, tz)
    date_part = babel_dates.format_date(local.date(), format, locale=locale)
    time_part = format_time(local, locale, tz=tz, hour_cycle=hour_cycle)
    pattern = str(Locale.parse(locale).datetime_formats[format])
    return pattern.replace("{1}", date_part).replace("{0}", time_part)


def format_date(value: date | None, locale: str, *, format: str = "medium") -> str:
    """A calendar date in the locale's conventions; empty for None."""
    if value is None:
        return ""
    return babel_dates.format_date(value, format, locale=locale)


def format_time(
    value: time | datetime | None,
    locale: str,
    *,
    format: str = "short",
    tz: tzinfo | None = None,
    hour_cycle: HourCycle = "locale",
) -> str:
    """A time of day in the locale's conventions (or the chosen clock); empty for None.
    A datetime is first moved to `tz` (UTC when not given)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz)
    if hour_cycle == "locale":
        return babel_dates.format_time(value, format, locale=locale)
    return babel_dates.format_skeleton(_HOUR_SKELETON[hour_cycle], value, locale=locale)


def format_decimal(value: int | Decimal | None, locale: str) -> str:
    """A number with the locale's grouping and decimal signs; empty for None.

    Takes `int` or `Decimal` only: amounts are never floats in this code base.
    """
    if value is None:
        return ""
    return babel_numbers.format_decimal(value, locale=locale)


def format_currency(value: Decimal | None, currency: str, locale: str) -> str:
    """An amount with its ISO 4217 currency in the locale's conventions; empty for None."""
    if value is None:
        return ""
    return babel_numbers.format_currency(value, currency, locale=locale)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown (e.g. `{{ _(x) }}`)."""
    return message
