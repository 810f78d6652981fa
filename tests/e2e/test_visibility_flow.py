"""An admin builds a team on the Groups screen and restricts sales agents to their own
records on the Roles screen; an agent then sees only their contacts and companies — in
the lists, in search, by URL and in the export."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tokens import mint_access_token
from m3crm.settings import Settings
from tests.factories import SeededTenant, make_tenant, make_user
from tests.harness import MigratedDatabase
from tests.modules.contacts.helpers import make_company, make_contact

pytestmark = pytest.mark.e2e

ALPINE_READY = "() => document.body._x_dataStack !== undefined"
"""The shell's Alpine component is initialised (its key handlers listen)."""


@dataclass(frozen=True)
class Team:
    tenant: SeededTenant
    agent1: UUID
    agent2: UUID
    theirs: UUID


async def _make_team(test_db: MigratedDatabase) -> Team:
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug=f"team-{uuid4().hex[:8]}", plan_code="DevPro")
        await bind_tenant(session, tenant.id, None)
        agent1 = await make_user(
            session, tenant_id=tenant.id, email="agent1@team.test", role="sales_agent"
        )
        agent2 = await make_user(
            session, tenant_id=tenant.id, email="agent2@team.test", role="sales_agent"
        )
        await make_contact(session, tenant, first_name="Yasmin", last_name="Own", owner_id=agent1)
        theirs = (
            await make_contact(
                session, tenant, first_name="Yara", last_name="Other", owner_id=agent2
            )
        ).id
        await make_company(session, tenant, name="Yasmin Estates", owner_id=agent1)
        await make_company(session, tenant, name="Yara Towers", owner_id=agent2)
        # The workspace lets its agents export (the seeded role does not): what an admin
        # does with `PATCH /v1/admin/roles/{id}`.
        await session.execute(
            text(
                "INSERT INTO role_permissions (tenant_id, id, role_id, permission_code)"
                " SELECT tenant_id, gen_random_uuid(), id, 'reports.export' FROM roles"
                " WHERE tenant_id = :t AND code = 'sales_agent'"
            ),
            {"t": tenant.id},
        )
    await engine.dispose()
    return Team(tenant, agent1, agent2, theirs)


@pytest.fixture(scope="session")
def team(test_db: MigratedDatabase) -> Team:
    """Made on a thread of its own: Playwright's event loop may already run on this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _make_team(test_db)).result()


def sign_in(page: Page, settings: Settings, base: str, tenant_id: UUID, user_id: UUID) -> None:
    page.context.clear_cookies()
    token = mint_access_token(settings, tenant_id=tenant_id, user_id=user_id)
    page.context.add_cookies([{"name": ACCESS_COOKIE, "value": token, "url": base}])


def test_admin_restricts_agents_to_their_own_records(
    live_server: str, settings: Settings, team: Team, page: Page, artifacts: Path
) -> None:
    sign_in(page, settings, live_server, team.tenant.id, team.tenant.admin_id)
    page.goto(f"{live_server}/admin/groups?lang=en")
    page.get_by_label("Name").fill("Team Nile")
    page.get_by_label("Code").fill("team_nile")
    page.locator("#groups-list").get_by_role("button", name="Create").click()
    page.wait_for_url("**/admin/groups/*")
    for email in ("agent1@team.test", "agent2@team.test"):
        page.locator("#member-add").select_option(label=email)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_test_id("members")).to_contain_text(email)

    page.goto(f"{live_server}/admin/roles")
    row = page.locator("#role-sales_agent")
    row.locator("select[name=scope_contact]").select_option("own")
    row.locator("select[name=scope_company]").select_option("own")
    row.get_by_role("button").click()
    expect(row.get_by_role("status")).to_contain_text("✓")
    page.screenshot(path=str(artifacts / "roles-scopes.png"), full_page=True)

    sign_in(page, settings, live_server, team.tenant.id, team.agent1)
    page.goto(f"{live_server}/contacts")
    expect(page.locator("#main")).to_contain_text("Yasmin")
    expect(page.locator("#main")).not_to_contain_text("Yara")
    page.goto(f"{live_server}/companies")
    expect(page.locator("#main")).to_contain_text("Yasmin Estates")
    expect(page.locator("#main")).not_to_contain_text("Yara Towers")
    response = page.goto(f"{live_server}/contacts/{team.theirs}")
    assert response is not None and response.status == 404

    page.goto(f"{live_server}/contacts")
    page.wait_for_function(ALPINE_READY)
    page.keyboard.press("/")
    expect(page.locator("#search-input")).to_be_focused()
    page.keyboard.type("ya")
    results = page.locator("#search-results")
    expect(results.locator("[role=option]").first).to_be_visible()
    expect(results).to_contain_text("Yasmin")
    expect(results).not_to_contain_text("Yara")

    page.goto(f"{live_server}/contacts")
    with page.expect_download() as download:
        page.get_by_test_id("export-contacts").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Yasmin" in exported and "Yara" not in exported
