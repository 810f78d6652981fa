"""An admin makes a custom role on the role editor (finding a permission by typing),
gives it to a person from the role's page, and the person's Access tab says why they now
hold that permission."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from m3crm.settings import Settings
from tests.e2e.offices import Office, make_office
from tests.e2e.test_visibility_flow import ALPINE_READY, sign_in
from tests.harness import MigratedDatabase

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def office(test_db: MigratedDatabase) -> Office:
    return make_office(test_db, prefix="roles", email="karim@roles.test")


def test_a_custom_role_given_from_its_page(
    live_server: str, settings: Settings, office: Office, page: Page, artifacts: Path
) -> None:
    sign_in(page, settings, live_server, office.tenant.id, office.tenant.admin_id)
    page.goto(f"{live_server}/admin/roles/new?lang=en")
    page.wait_for_function(ALPINE_READY)
    page.locator("#role-name").fill("Exporter")
    page.locator("#role-code").fill("exporter")
    page.get_by_label("Find a permission").fill("export")
    matrix = page.get_by_test_id("permission-matrix")
    export = matrix.locator('input[value="reports.export"]')
    expect(export).to_be_visible()
    expect(matrix.locator('input[value="contact.read"]')).to_be_hidden()
    export.check()
    page.get_by_role("button", name="Create role").click()
    page.wait_for_url("**/admin/roles/*")
    expect(page.locator("h1")).to_contain_text("Exporter")

    page.locator("#holder-add").select_option(str(office.person))
    page.get_by_role("button", name="Give", exact=True).click()
    expect(page.get_by_test_id("role-holders")).to_contain_text("karim@roles.test")
    page.screenshot(path=str(artifacts / "role-editor-en.png"), full_page=True)

    page.goto(f"{live_server}/admin/users/{office.person}?tab=access")
    row = page.get_by_test_id("effective-permissions").locator("tr", has_text="reports.export")
    expect(row).to_contain_text("exporter")
