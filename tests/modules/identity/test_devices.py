"""Device labels of sessions: the parser's label, our app's token, the API field and the
pages that list sessions (with the raw user agent kept as the tooltip)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.i18n import get_translations
from m3crm.modules.identity.devices import device_label
from tests.conftest import World
from tests.modules.identity.test_auth import api, bearer, sign_up  # noqa: F401
from tests.modules.identity.test_user_detail import page_url
from tests.modules.identity.test_users_admin import new_user, open_session
from tests.web.test_pages import cookie

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (CHROME_WINDOWS, "Chrome on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_ANDROID, "Chrome on Android"),
        (SAFARI_MAC, "Safari on macOS"),
        ("M3CoreCRM/1.4.2 (iOS 17.1; iPhone14,2)", "M3CoreCRM iOS app"),
        ("M3CoreCRM/1.4.2 (Android 14; Pixel 8)", "M3CoreCRM Android app"),
        ("m3corecrm/2.0", "M3CoreCRM app"),
        ("curl/8.4.0", "curl"),
    ],
)
def test_known_agents_get_a_label(user_agent: str, label: str) -> None:
    assert device_label(user_agent) == label


@pytest.mark.parametrize("user_agent", [None, "", "   ", "testclient", "x" * 400])
def test_unrecognisable_agents_have_no_label(user_agent: str | None) -> None:
    assert device_label(user_agent) is None


def test_the_app_token_must_lead_the_agent() -> None:
    """A browser that merely mentions our name is still the browser."""
    assert device_label(CHROME_WINDOWS + " M3CoreCRM/1.0") == "Chrome on Windows"


def test_the_label_follows_the_readers_language() -> None:
    seen: list[str] = []

    def translate(message: str) -> str:
        seen.append(message)
        return get_translations("en").gettext(message)

    assert device_label(CHROME_WINDOWS, translate) == "Chrome on Windows"
    assert seen == ["%(browser)s on %(system)s"]


async def test_sessions_api_gives_the_device_and_keeps_the_agent(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    api.headers["User-Agent"] = CHROME_WINDOWS
    signed = (await sign_up(api)).json()
    api.cookies.clear()
    listed = await api.get(
        "/v1/auth/sessions",
        headers={**bearer(signed["access_token"]), "User-Agent": "another-agent"},
    )
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["device"] == "Chrome on Windows" and row["user_agent"] == CHROME_WINDOWS
    assert (await api.get("/v1/auth/sessions")).status_code == 401


async def test_sessions_api_device_is_null_for_an_unknown_agent(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    api.headers["User-Agent"] = "testclient"
    signed = (await sign_up(api)).json()
    rows = (await api.get("/v1/auth/sessions", headers=bearer(signed["access_token"]))).json()
    assert [(r["device"], r["user_agent"]) for r in rows] == [(None, "testclient")]


async def test_sessions_page_shows_the_device_with_the_agent_as_tooltip(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    api.headers["User-Agent"] = SAFARI_IPHONE
    await sign_up(api)
    page = await api.get("/account/sessions")
    assert page.status_code == 200
    assert f'title="{SAFARI_IPHONE}" data-testid="session-device">Safari on iPhone<' in page.text


async def test_person_page_security_tab_shows_devices(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "devices@alpha.test", role="sales_agent")
    await open_session(session, world, user, user_agent="M3CoreCRM/1.0 (iOS 17.1)")
    await open_session(session, world, user)
    security = await client.get(page_url(user, "security"), headers=cookie(world))
    assert security.status_code == 200
    assert 'data-testid="session-device">M3CoreCRM iOS app<' in security.text
    assert 'data-testid="session-device">Unknown device<' in security.text
