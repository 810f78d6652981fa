"""The harness works in both directions, and the Monitoring screen in Arabic."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World

pytestmark = pytest.mark.e2e


def test_home_ltr_then_rtl_through_the_switcher(
    live_server: str, page: Page, artifacts: Path
) -> None:
    page.goto(f"{live_server}/?lang=en")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("real-estate developers")
    page.screenshot(path=str(artifacts / "home-en.png"), full_page=True)

    page.goto(f"{live_server}/?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("العقاريين")

    page.goto(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    switcher = page.get_by_test_id("language-switcher")
    switcher.get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("العقاريين")
    assert page.url == f"{live_server}/"
    # Mirrored layout: the brand sits at the inline start (right), the switcher at the end.
    brand = page.get_by_role("banner").get_by_role("link").first.bounding_box()
    switch_box = switcher.bounding_box()
    assert brand is not None and switch_box is not None
    assert brand["x"] > switch_box["x"]
    page.screenshot(path=str(artifacts / "home-ar.png"), full_page=True)

    page.reload()  # the cookie keeps the choice
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    switcher.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_monitoring_screen_in_arabic(
    live_server: str, world: World, page: Page, artifacts: Path
) -> None:
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=world.a.agent_id)
    page.context.add_cookies([{"name": ACCESS_COOKIE, "value": token, "url": live_server}])
    page.goto(f"{live_server}/monitoring/runs")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("الأعمال في الخلفية")
    expect(page.get_by_test_id("runs-table")).to_be_visible()
    page.screenshot(path=str(artifacts / "monitoring-ar.png"), full_page=True)


def test_anonymous_is_sent_to_sign_in_and_back(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/lang/ar")
    page.goto(f"{live_server}/monitoring/runs")
    expect(page).to_have_url(f"{live_server}/login?next=%2Fmonitoring%2Fruns")
    expect(page.get_by_role("heading", level=1)).to_have_text("تسجيل الدخول")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")


def test_htmx_errors_land_in_the_alert_region(
    live_server: str, page: Page, artifacts: Path
) -> None:
    """htmx swaps a 4xx partial into #page-alerts, translated, and leaves the page intact."""
    page.goto(f"{live_server}/?lang=ar")
    page.wait_for_function("() => window.htmx !== undefined && window.Alpine !== undefined")
    page.evaluate("htmx.ajax('GET', '/nowhere', {target: '#main', swap: 'innerHTML'})")
    alert = page.locator("#page-alerts").get_by_role("alert")
    expect(alert).to_contain_text("الصفحة غير موجودة")
    expect(page.get_by_role("heading", level=1)).to_contain_text("العقاريين")
    page.screenshot(path=str(artifacts / "htmx-error-ar.png"))
    alert.get_by_role("button", name="إغلاق").click()
    expect(alert).to_have_count(0)
