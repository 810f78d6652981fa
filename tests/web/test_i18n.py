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
