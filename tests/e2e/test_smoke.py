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
    page.get_by_test_id("language-switcher").get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_contain_text("العقاريين")
    page.screenshot(path=str(artifacts / "home-ar.png"), full_page=True)
    page.get_by_test_id("language-switcher").get_by_role("link", name="English").click()
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


def test_anonymous_sees_a_readable_error_page(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/monitoring/runs?lang=ar")
    expect(page.get_by_role("alert")).to_contain_text("يرجى تسجيل الدخول")
