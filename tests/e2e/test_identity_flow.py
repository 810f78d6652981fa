"""A person's first day, in a real browser: sign up, verify the e-mail (read from the local
mail catcher), sign in, turn on the authenticator app, sign out, sign in with a code.
Once in English and once in Arabic; screenshots go to `test-artifacts/`."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pyotp
import pytest
from playwright.sync_api import Page, expect

from m3crm.app import create_app
from m3crm.modules.notify.mailcatcher import list_mails
from m3crm.settings import Settings
from tests.conftest import World
from tests.live import free_port, serve

PASSWORD = "juniper-coast-4421"


@pytest.fixture(scope="module")
def maildir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def site(settings: Settings, world: World, maildir: Path) -> Iterator[str]:
    """The app with its worker, delivery pump and mail catcher (as `make run` has them)."""
    configured = settings.model_copy(
        update={
            "data_dir": maildir,
            "smtp_port": free_port(),
            "notify_poll_seconds": 0.2,
            "notify_email_provider": "smtp",
        }
    )
    with serve(create_app(configured, with_worker=True)) as base_url:
        yield base_url


def wait_for_mail(maildir: Path, to: str) -> str:
    """The text of the newest mail to `to` that the catcher received (up to 20 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for mail in list_mails(maildir / "mail"):
            if to in mail.recipients:
                return mail.text or ""
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} reached the catcher")


def totp_code(page: Page) -> tuple[str, str]:
    secret = re.sub(r"\s", "", page.locator("#totp-panel code").first.inner_text())
    return secret, pyotp.TOTP(secret).now()


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["en", "ar"])
def test_sign_up_verify_sign_in_with_totp(
    site: str, maildir: Path, page: Page, artifacts: Path, language: str
) -> None:
    email = f"owner-{uuid4().hex[:8]}@example.com"
    page.goto(f"{site}/lang/{language}?next=/signup")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    page.locator("[name=workspace_name]").fill("Nile Crest Realty")
    page.locator("[name=workspace_slug]").fill(f"nile-{uuid4().hex[:8]}")
    page.locator("[name=full_name]").fill("Sara Ali")
    page.locator("[name=email]").fill(email)
    page.locator("[name=password]").fill(PASSWORD)
    page.locator("#signup-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/\?welcome=signup$"))

    text = wait_for_mail(maildir, email)
    token = re.search(r"token=([A-Za-z0-9_.-]+)", text)
    assert token is not None
    page.goto(f"{site}/verify-email?token={token.group(1)}")
    page.locator("#verify-form button[type=submit]").click()
    expect(page.locator("#verify-form [role=status]")).to_be_visible()

    page.goto(f"{site}/account/security")
    page.locator("#totp-panel button[type=submit]").first.click()
    expect(page.locator("#totp-panel img")).to_be_visible()
    secret, code = totp_code(page)
    page.locator("#totp-code").fill(code)
    page.locator("#totp-code").press("Enter")
    expect(page.locator("#totp-panel")).to_contain_text(re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}"))
    page.screenshot(path=str(artifacts / f"security-{language}.png"), full_page=True)

    page.locator("header button[aria-controls=user-menu]").click()
    page.locator("#user-menu button[hx-post='/logout']").click()
    page.wait_for_url(re.compile(r"/login$"))
    page.locator("[name=email]").fill(email)
    page.locator("[name=password]").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("[name=challenge]")).to_be_attached()
    page.screenshot(path=str(artifacts / f"second-step-{language}.png"), full_page=True)
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    page.locator("#m-totp").check()
    page.locator("[name=code]").fill(next_code)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("header")).to_contain_text("Sara Ali")
