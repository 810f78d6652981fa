"""The Dictionaries screen in the browser: an admin adds a job title of their own, sees a
refused code beside its field, edits the entry in place, then deactivates and reactivates
it; the Standard rows offer no action."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World

pytestmark = pytest.mark.e2e


def test_admin_manages_an_own_job_title(
    live_server: str, world: World, page: Page, artifacts: Path
) -> None:
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=world.a.admin_id)
    page.context.add_cookies([{"name": ACCESS_COOKIE, "value": token, "url": live_server}])
    code = f"leasing_{uuid4().hex[:8]}"
    page.goto(f"{live_server}/admin/dictionaries?lang=en")
    expect(page).to_have_url(f"{live_server}/admin/dictionaries/job-titles")
    broker = page.locator('tr[data-code="broker"]')
    expect(broker).to_contain_text("Standard")
    expect(broker.get_by_role("button")).to_have_count(0)

    form = page.get_by_test_id("add-entry")
    form.locator("#new-code").fill("broker")
    form.locator("#new-label_en").fill("Leasing agent")
    form.locator("#new-label_ar").fill("وكيل تأجير")
    form.get_by_role("button", name="Add entry").click()
    expect(page.locator('[data-field-error="code"]')).to_contain_text("already exists")

    page.locator("#new-code").fill(code)
    page.locator("#new-sort_order").fill("3")
    page.get_by_test_id("add-entry").get_by_role("button", name="Add entry").click()
    row = page.locator(f'tr[data-code="{code}"]')
    expect(row).to_contain_text("وكيل تأجير")
    expect(page.locator("#new-code")).to_have_value("")

    row.get_by_role("button", name="Edit").click()
    row.locator("input[name=label_en]").fill("Lettings agent")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Lettings agent")
    expect(row.locator("input")).to_have_count(0)

    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("Inactive")
    row.get_by_role("button", name="Reactivate").click()
    expect(row).to_contain_text("Active")
    expect(row.get_by_role("button", name="Deactivate")).to_be_visible()
    page.screenshot(path=str(artifacts / "dictionaries-en.png"), full_page=True)
