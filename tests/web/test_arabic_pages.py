"""Every shell page, rendered for an Arabic-speaking user, carries no English text: a
string that was not passed through gettext (or lacks its Arabic translation) fails here.

Data is exempt where the markup says it is not prose: `dir="ltr"` (addresses, codes,
numbers), `translate="no"` (names and other user data), `<code>`, `<kbd>`, scripts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World
from tests.modules.contacts.helpers import make_contact
from tests.modules.notify.helpers import inbox_entry
from tests.modules.runs.test_api import failed_run
from tests.web.test_pages import cookie

# (path, user): the Arabic-speaking agent where they may go, else the admin switched to Arabic.
SHELL_PAGES = (
    ("/", "agent"),
    ("/?welcome=signup", "agent"),
    ("/?welcome=invite", "agent"),
    ("/notifications", "agent"),
    ("/notifications/preferences", "agent"),
    ("/account/settings", "agent"),
    ("/account/profile", "agent"),
    ("/account/security", "agent"),
    ("/account/sessions", "agent"),
    ("/monitoring/runs", "agent"),
    ("/monitoring/messages", "admin"),
    ("/admin/audit", "admin"),
    ("/settings/templates", "admin"),
    ("/settings/notification-policies", "admin"),
    ("/admin/users", "admin"),
    ("/admin/roles", "admin"),
    ("/admin/groups", "admin"),
    ("/admin/roles/new", "admin"),
    ("/admin/dictionaries/job-titles", "admin"),
    ("/admin/entitlements", "admin"),
    ("/admin/plan", "admin"),
    ("/admin/users/{agent}", "admin"),
    ("/admin/users/{agent}?tab=security", "admin"),
    ("/admin/users/{agent}?tab=access", "admin"),
    ("/admin/users/{agent}?tab=preferences", "admin"),
    ("/admin/users/{agent}?tab=audit", "admin"),
    ("/contacts", "agent"),
    ("/companies", "agent"),
    ("/nowhere", "admin"),
)
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
NAMES = re.compile(
    r"M3CoreCRM|Google Authenticator|WhatsApp|English|Ctrl|Enter|Esc|SMS|STOP|TOTP|CSV|XLSX"
)
EXEMPT_TAGS = {"script", "style", "code", "kbd", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class EnglishFinder(HTMLParser):
    """Collects text outside exempt elements that contains an English word."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        values = dict(attrs)
        exempt = (
            tag in EXEMPT_TAGS
            or values.get("dir") == "ltr"
            or values.get("translate") == "no"
            or (self.stack and self.stack[-1])
        )
        self.stack.append(bool(exempt))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1]:
            return
        if ENGLISH_WORD.search(NAMES.sub("", data)):
            self.found.append(data.strip())


@pytest.mark.parametrize(("path", "user"), SHELL_PAGES)
async def test_arabic_page_has_no_english_prose(
    client: httpx.AsyncClient, world: World, path: str, user: str
) -> None:
    path = path.replace("{agent}", str(world.a.agent_id))
    headers = cookie(world, user)
    if user == "admin":  # rolled back after the test, like everything the client writes
        switched = await client.patch(
            "/v1/me/settings", json={"locale": "ar"}, headers=world.headers(world.a)
        )
        assert switched.status_code == 200
    # An unknown address matches no route, so no user is loaded: the cookie decides.
    headers["Cookie"] += "; m3crm_locale=ar"
    page = await client.get(path, headers=headers)
    assert page.status_code in (200, 404), path
    assert '<html lang="ar" dir="rtl"' in page.text
    finder = EnglishFinder()
    finder.feed(page.text)
    assert finder.found == [], f"{path}: untranslated text {finder.found[:10]}"


async def test_detail_pages_in_arabic(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    """Pages under an id: a notification, a background job, a group, a contact, a role."""
    run = await failed_run(session, app, world.a)
    entry = await inbox_entry(session, world.a, world.a.agent_id)
    entry.title, entry.body = "تذكير", "موعد المعاينة غدًا"  # rendered in the recipient's language
    await session.flush()
    contact = await make_contact(session, world.a, first_name="سلمى", last_name="حسن")
    group = await client.post(
        "/v1/admin/groups",
        json={"code": "rtl_team", "name": "فريق"},
        headers=world.headers(world.a),
    )
    assert group.status_code == 201
    for path in (
        f"/notifications/{entry.id}",
        f"/monitoring/runs/{run.id}",
        f"/contacts/{contact.id}",
    ):
        page = await client.get(path, headers=cookie(world, "agent"))
        assert page.status_code == 200, path
        finder = EnglishFinder()
        finder.feed(page.text)
        assert finder.found == [], f"{path}: untranslated text {finder.found[:10]}"
    await client.patch("/v1/me/settings", json={"locale": "ar"}, headers=world.headers(world.a))
    page = await client.get(f"/admin/groups/{group.json()['id']}", headers=cookie(world))
    assert page.status_code == 200 and '<html lang="ar" dir="rtl"' in page.text
    finder = EnglishFinder()
    finder.feed(page.text)
    assert finder.found == [], finder.found[:10]
    roles = (await client.get("/v1/admin/roles", headers=world.headers(world.a))).json()
    manager = next(r["id"] for r in roles if r["code"] == "sales_manager")
    renamed = await client.patch(  # role names are the workspace's data, like a group's
        f"/v1/admin/roles/{manager}", json={"name": "مدير المبيعات"}, headers=world.headers(world.a)
    )
    assert renamed.status_code == 200
    page = await client.get(f"/admin/roles/{manager}", headers=cookie(world))
    assert page.status_code == 200 and 'data-testid="role-holders"' in page.text
    finder = EnglishFinder()
    finder.feed(page.text)
    assert finder.found == [], finder.found[:10]
