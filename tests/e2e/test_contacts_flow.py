"""Contacts in the browser, in English and in Arabic: create a contact with an Arabic name
and an Egyptian mobile, find it by typing the name without diacritics, merge a duplicate,
and import a CSV through the wizard."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World

pytestmark = pytest.mark.e2e

CASES = [
    ("admin", "en", "1001", "مُصْطَفَى", "مصطفى"),
    ("agent", "ar", "1002", "عُمَر", "عمر"),
]


def sign_in(page: Page, world: World, live_server: str, user: str) -> None:
    user_id = getattr(world.a, f"{user}_id")
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=user_id)
    page.context.add_cookies([{"name": ACCESS_COOKIE, "value": token, "url": live_server}])


@pytest.mark.parametrize(("user", "locale", "suffix", "typed", "plain"), CASES)
def test_create_find_merge_import(
    live_server: str,
    world: World,
    page: Page,
    artifacts: Path,
    tmp_path: Path,
    user: str,
    locale: str,
    suffix: str,
    typed: str,
    plain: str,
) -> None:
    sign_in(page, world, live_server, user)
    family = f"الشاذلي{suffix}"
    page.goto(f"{live_server}/contacts/new")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
    page.locator("#f-first_name").fill(typed)
    page.locator("#f-last_name").fill(family)
    page.locator("#f-phone").fill(f"+20 100 555 {suffix}")
    page.locator("#contact-form button[type=submit]").click()
    expect(page.get_by_test_id("contact-name")).to_have_text(f"{typed} {family}")
    expect(page.get_by_test_id("channel-badges")).to_contain_text(f"+20100555{suffix}")
    target_url = page.url

    page.goto(f"{live_server}/contacts")
    page.locator("#contacts-q").fill(f"{plain} {family}")
    expect(page.get_by_test_id("contacts-table")).to_contain_text(f"{typed} {family}")
    page.screenshot(path=str(artifacts / f"contacts-search-{locale}.png"), full_page=True)

    page.goto(f"{live_server}/contacts/new")
    page.locator("#f-first_name").fill(plain)
    page.locator("#f-last_name").fill(family)
    page.locator("#f-email").fill(f"dup{suffix}@example.test")
    page.locator("#contact-form button[type=submit]").click()
    expect(page.get_by_test_id("contact-name")).to_have_text(f"{plain} {family}")
    page.goto(target_url.replace("/contacts/", "/contacts/merge?target="))
    page.get_by_test_id("merge-candidates").get_by_role("link").first.click()
    page.get_by_test_id("merge-submit").click()
    page.wait_for_url(target_url)
    expect(page.get_by_test_id("channel-badges")).to_contain_text(f"dup{suffix}@example.test")
    page.screenshot(path=str(artifacts / f"contacts-merged-{locale}.png"), full_page=True)

    csv = tmp_path / "contacts.csv"
    csv.write_text(f"first_name,last_name,phone\nهدى,سالم{suffix},+20111222{suffix}\n", "utf-8")
    page.goto(f"{live_server}/contacts/imports/new")
    page.locator("#import-file").set_input_files(str(csv))
    page.locator("#import-step button[type=submit]").click()
    mapping = page.locator("form[hx-post$='/mapping']")
    expect(mapping.locator("#map-0")).to_have_value("first_name")
    mapping.locator("button[type=submit]").click()
    preview = page.get_by_test_id("import-preview")
    expect(preview).to_contain_text("1")
    preview.locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-done")).to_be_visible()
    page.screenshot(path=str(artifacts / f"contacts-import-{locale}.png"), full_page=True)
