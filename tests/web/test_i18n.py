"""Locale negotiation, direction and the Arabic catalog."""

from __future__ import annotations

from m3crm.kernel.i18n import gettext, negotiate_locale, text_direction


def test_query_beats_cookie_beats_header() -> None:
    assert negotiate_locale("ar", "en", "en-US") == "ar"
    assert negotiate_locale(None, "ar", "en-US") == "ar"
    assert negotiate_locale(None, None, "ar-EG,ar;q=0.9,en;q=0.8") == "ar"
    assert negotiate_locale("fr", "xx", "de-DE") == "en"
    assert negotiate_locale(None, None, None) == "en"


def test_direction() -> None:
    assert text_direction("ar") == "rtl"
    assert text_direction("en") == "ltr"


def test_arabic_catalog_translates() -> None:
    assert gettext("ar", "Page not found") == "الصفحة غير موجودة"
    assert gettext("en", "Page not found") == "Page not found"


def test_every_message_has_an_arabic_translation() -> None:
    from babel.messages.pofile import read_po

    from m3crm.kernel.i18n import LOCALE_DIR

    with (LOCALE_DIR / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        template = read_po(pot)
    untranslated = [
        m.id for m in template if m.id and not (catalog.get(m.id) and catalog[m.id].string)
    ]
    assert untranslated == []


def test_accept_language_honours_quality_and_skips_junk() -> None:
    assert negotiate_locale(None, None, "en;q=0.2, ar;q=0.8") == "ar"
    assert negotiate_locale(None, None, "ar;q=0, en-GB") == "en"
    assert negotiate_locale(None, None, "de-DE, fr;q=0.9, ar-SA;q=0.5") == "ar"
    assert negotiate_locale(None, None, "x;q=oops,,;;*") == "en"
    assert negotiate_locale("", "", "") == "en"
    assert negotiate_locale("AR_eg", None, None) == "ar"


def test_unknown_locale_falls_back_to_english_text() -> None:
    assert text_direction("xx") == "ltr"
    assert gettext("xx", "Page not found") == "Page not found"


def test_babel_formats_follow_the_locale() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from m3crm.kernel.i18n import format_currency, format_datetime, format_decimal, locale_name

    moment = datetime(2026, 11, 22, 21, 5, tzinfo=UTC)
    assert (
        format_datetime(moment, "en", tz=ZoneInfo("Africa/Cairo"))
        == "Nov 22, 2026, 11:05:00\u202fPM"
    )
    assert "م" in format_datetime(moment, "ar")  # Arabic PM marker
    assert format_datetime(None, "ar") == ""
    assert format_decimal(Decimal("1234567.5"), "en") == "1,234,567.5"
    assert "ج.م." in format_currency(Decimal("1500000"), "EGP", "ar")
    assert locale_name("ar") == "العربية" and locale_name("en") == "English"
