"""The app shell in a browser: every page in Arabic (RTL, screenshot, axe-core), nav and
URL refusal by permission, search and palette by keyboard, preferences that persist."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.identity.secrets import hash_password
from m3crm.modules.notify.catalog import otp_payload
from m3crm.settings import Settings
from tests.factories import SeededTenant, make_tenant
from tests.harness import MigratedDatabase

pytestmark = pytest.mark.e2e

ALPINE_READY = "() => document.body._x_dataStack !== undefined"
"""The shell's Alpine component is initialised (its key handlers listen)."""

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "shell-Password-2026"
SHELL_PAGES = (
    ("home", "/"),
    ("notifications", "/notifications"),
    ("notification-preferences", "/notifications/preferences"),
    ("settings", "/account/settings"),
    ("profile", "/account/profile"),
    ("security", "/account/security"),
    ("sessions", "/account/sessions"),
    ("monitoring-runs", "/monitoring/runs"),
    ("monitoring-messages", "/monitoring/messages"),
    ("audit", "/admin/audit"),
    ("templates", "/settings/templates"),
    ("notification-policies", "/settings/notification-policies"),
    ("people", "/admin/users"),
    ("roles", "/admin/roles"),
    ("groups", "/admin/groups"),
    ("new-role", "/admin/roles/new"),
    ("entitlements", "/admin/entitlements"),
    ("plan", "/admin/plan"),
    ("dictionaries", "/admin/dictionaries/job-titles"),
    ("person-profile", "/admin/users/{agent}"),
    ("person-security", "/admin/users/{agent}?tab=security"),
    ("person-access", "/admin/users/{agent}?tab=access"),
    ("person-audit", "/admin/users/{agent}?tab=audit"),
    ("contacts", "/contacts"),
    ("companies", "/companies"),
)


@pytest.fixture(scope="session")
def shell_tenant(test_db: MigratedDatabase) -> SeededTenant:
    """A tenant of its own (these tests change users' languages and themes), whose admin
    speaks Arabic and signs in with a password. Made on a thread of its own: Playwright's
    event loop may already run on this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _make_shell_tenant(test_db)).result()


async def _make_shell_tenant(test_db: MigratedDatabase) -> SeededTenant:
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug=f"shell-{uuid4().hex[:8]}", plan_code="DevPro")
        from m3crm.kernel.tenancy.models import User

        for user_id in (tenant.admin_id, tenant.agent_id):
            user = await session.get(User, (tenant.id, user_id))
            assert user is not None
            user.password_hash = hash_password(PASSWORD)
        admin = await session.get(User, (tenant.id, tenant.admin_id))
        assert admin is not None
        admin.locale = "ar"
        admin.full_name = "مدير المكتب"
    await engine.dispose()
    return tenant


def sign_in_as(page: Page, settings: Settings, base: str, tenant: SeededTenant, user: str) -> None:
    token = mint_access_token(settings, tenant_id=tenant.id, user_id=getattr(tenant, f"{user}_id"))
    page.context.add_cookies([{"name": ACCESS_COOKIE, "value": token, "url": base}])


def serious_axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [
        json.dumps(v, ensure_ascii=False) for v in result if v["impact"] in ("serious", "critical")
    ]


def test_every_shell_page_in_arabic_rtl_accessible(
    live_server: str,
    settings: Settings,
    shell_tenant: SeededTenant,
    page: Page,
    artifacts: Path,
) -> None:
    sign_in_as(page, settings, live_server, shell_tenant, "admin")
    problems: dict[str, list[str]] = {}
    for name, path in SHELL_PAGES:
        path = path.replace("{agent}", str(shell_tenant.agent_id))
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, (path, response)
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.wait_for_function(ALPINE_READY)
        # The side menu sits at the inline start: on the right in Arabic.
        nav = page.locator("#sidebar").bounding_box()
        main = page.locator("#main").bounding_box()
        assert nav is not None and main is not None
        assert nav["x"] > main["x"], f"{path}: the menu is not on the right"
        page.screenshot(path=str(artifacts / f"shell-{name}-ar.png"), full_page=True)
        found = serious_axe_violations(page)
        if found:
            problems[path] = found
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_overlays_are_accessible_in_both_directions(
    live_server: str, settings: Settings, shell_tenant: SeededTenant, page: Page, artifacts: Path
) -> None:
    sign_in_as(page, settings, live_server, shell_tenant, "admin")
    page.goto(f"{live_server}/")
    page.wait_for_function(ALPINE_READY)
    page.keyboard.press("Control+k")
    expect(page.locator("#palette-input")).to_be_focused()
    page.screenshot(path=str(artifacts / "shell-palette-ar.png"))
    assert serious_axe_violations(page) == []
    page.keyboard.press("Escape")
    page.locator("#drawer-open").click()
    expect(page.get_by_role("tab", name="الكل")).to_have_attribute("aria-selected", "true")
    page.screenshot(path=str(artifacts / "shell-drawer-ar.png"))
    assert serious_axe_violations(page) == []


def test_staff_nav_hides_admin_screens_and_their_urls_refuse(
    live_server: str, settings: Settings, shell_tenant: SeededTenant, page: Page, artifacts: Path
) -> None:
    sign_in_as(page, settings, live_server, shell_tenant, "agent")
    page.goto(f"{live_server}/notifications?lang=en")
    nav = page.locator("#sidebar nav")
    expect(nav.locator("[data-nav=notifications]")).to_be_visible()
    for hidden in ("audit", "templates"):
        expect(nav.locator(f"[data-nav={hidden}]")).to_have_count(0)
    response = page.goto(f"{live_server}/admin/audit")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("ليست لديك صلاحية الوصول")
    expect(page.get_by_role("button", name="طلب الوصول")).to_be_visible()
    page.screenshot(path=str(artifacts / "shell-refused-ar.png"))


def test_palette_by_keyboard_only(
    live_server: str, settings: Settings, shell_tenant: SeededTenant, page: Page
) -> None:
    sign_in_as(page, settings, live_server, shell_tenant, "agent")
    page.goto(f"{live_server}/notifications")
    page.wait_for_function(ALPINE_READY)
    page.keyboard.press("Control+k")
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.type("الإعدادات")
    expect(page.locator("#palette-list [aria-selected=true]")).to_have_attribute(
        "data-href", "/account/settings"
    )
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/account/settings")
    page.wait_for_function(ALPINE_READY)
    page.keyboard.press("Control+k")
    expect(page.locator("#palette-input")).to_be_focused()
    page.keyboard.type("الخلفيه")  # typed with a final heh: folding still matches
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/monitoring/runs")


def test_theme_density_and_language_persist_across_sign_out_and_in(
    live_server: str, shell_tenant: SeededTenant, page: Page, artifacts: Path
) -> None:
    def sign_in() -> None:
        page.goto(f"{live_server}/login")
        page.locator("[name=email]").fill(f"agent@{shell_tenant.slug}.test")
        page.locator("[name=password]").fill(PASSWORD)
        page.locator("[name=password]").press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)

    sign_in()
    page.goto(f"{live_server}/account/settings")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    page.get_by_label("داكن").check()
    page.get_by_label("مضغوط").check()
    page.locator("#settings-locale").select_option("en")
    page.get_by_role("button", name="حفظ").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.screenshot(path=str(artifacts / "shell-settings-dark-en.png"), full_page=True)

    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/login" in url or url.endswith("/"))
    page.context.clear_cookies()
    sign_in()
    page.goto(f"{live_server}/account/settings")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("data-theme", "dark")
    expect(html).to_have_attribute("data-density", "compact")


def test_search_by_keyboard_only(
    live_server: str, settings: Settings, shell_tenant: SeededTenant, page: Page, artifacts: Path
) -> None:
    """`/` opens search; the agent's name typed without the hamza-less spelling nuance
    still matches; arrows and Enter open the person."""
    sign_in_as(page, settings, live_server, shell_tenant, "admin")
    page.goto(f"{live_server}/notifications")
    page.wait_for_function(ALPINE_READY)
    page.keyboard.press("/")
    expect(page.locator("#search-input")).to_be_focused()
    page.keyboard.type("وكيل المبيعات")
    option = page.locator("#search-results [role=option]").first
    expect(option).to_have_attribute("aria-selected", "true")
    expect(page.locator("#search-input")).to_have_attribute(
        "aria-activedescendant", option.get_attribute("id") or ""
    )
    page.screenshot(path=str(artifacts / "shell-search-ar.png"))
    assert serious_axe_violations(page) == []
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/admin/users/{shell_tenant.agent_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("وكيل المبيعات")


def test_inbox_shows_a_mirrored_sms_on_all_its_channels(
    live_server: str,
    settings: Settings,
    shell_tenant: SeededTenant,
    page: Page,
    artifacts: Path,
) -> None:
    """An SMS to the agent with mirroring: the drawer lists it, its detail shows the SMS,
    the e-mail copy and the in-app copy."""
    admin = mint_access_token(settings, tenant_id=shell_tenant.id, user_id=shell_tenant.admin_id)
    sent = httpx.post(
        f"{live_server}/v1/notify/dispatch",
        json={
            "channel": "sms",
            "to": "+201001234567",
            "family": "otp.verify_phone",
            "payload": otp_payload("482913", expires_min=10, tenant_name="Alpha"),
            "recipient_user_id": str(shell_tenant.agent_id),
        },
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert sent.status_code == 202, sent.text
    sign_in_as(page, settings, live_server, shell_tenant, "agent")
    page.goto(f"{live_server}/")
    page.wait_for_function(ALPINE_READY)
    page.keyboard.press("g")
    page.keyboard.press("n")
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    first = drawer.locator("#drawer-list li").first
    expect(first).to_have_attribute("data-read", "false")
    page.screenshot(path=str(artifacts / "shell-inbox-drawer-ar.png"))
    first.get_by_role("link").first.click()
    channels = page.get_by_test_id("mirrored-channels")
    for channel in ("sms", "email", "inbox"):
        expect(channels.locator(f"[data-channel={channel}]")).to_be_visible()
    page.screenshot(path=str(artifacts / "shell-inbox-detail-ar.png"), full_page=True)
