"""An admin gives one person a larger role limit on the Entitlements screen; the
precedence preview, reloaded by the save, shows the person's own override winning."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from m3crm.settings import Settings
from tests.e2e.offices import Office, make_office
from tests.e2e.test_visibility_flow import sign_in
from tests.harness import MigratedDatabase

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def office(test_db: MigratedDatabase) -> Office:
    return make_office(test_db, prefix="ents", email="nadia@ents.test")


def test_a_personal_override_wins_in_the_preview(
    live_server: str, settings: Settings, office: Office, page: Page, artifacts: Path
) -> None:
    sign_in(page, settings, live_server, office.tenant.id, office.tenant.admin_id)
    page.goto(f"{live_server}/admin/entitlements?lang=en")
    page.locator("#preview-person").select_option(str(office.person))
    preview = page.locator("#precedence")
    expect(preview).to_have_attribute("data-user", str(office.person))
    expect(preview.locator('tr[data-key="roles.max"]')).to_have_attribute(
        "data-source", "plan:DevPro"
    )

    page.locator("#override-target").select_option(f"user:{office.person}")
    editor = page.locator("#overrides-editor")
    expect(editor).to_have_attribute("data-level", "user")
    editor.get_by_label("Find a feature or limit").fill("roles.m")
    expect(editor.locator('input[name="limit:groups.max"]')).to_be_hidden()
    editor.locator('input[name="limit:roles.max"]').fill("4")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_contain_text("✓")

    row = page.locator('#precedence tr[data-key="roles.max"]')
    expect(row).to_have_attribute("data-source", "user override")
    expect(row.locator("[data-winner]")).to_contain_text("4")
    page.screenshot(path=str(artifacts / "entitlements.png"), full_page=True)
