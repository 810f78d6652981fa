"""After sign-up or joining by invitation the home page offers the optional security steps
(spec §1 §10: 2FA, phone) as a dismissible prompt; it never blocks and never shows
otherwise."""

from __future__ import annotations

from uuid import uuid4

import httpx

from m3crm.kernel.db.session import Database
from tests.conftest import World
from tests.modules.identity.test_auth import PASSWORD, api  # noqa: F401
from tests.modules.identity.test_sign_in_audit import invite, verified_owner
from tests.web.test_pages import cookie

HX = {"HX-Request": "true"}


async def test_sign_up_lands_on_the_2fa_prompt(api: httpx.AsyncClient) -> None:  # noqa: F811
    signed = await api.post(
        "/signup",
        data={"workspace_name": "Palm Realty", "workspace_slug": f"palm-{uuid4().hex[:8]}",
              "full_name": "Hana", "email": f"hana-{uuid4().hex[:6]}@example.com",
              "password": PASSWORD},
        headers=HX,
    )  # fmt: skip
    landing = signed.headers["HX-Redirect"]
    assert landing == "/?welcome=signup"
    home = await api.get(landing)
    assert home.status_code == 200
    assert 'data-welcome="signup"' in home.text and 'href="/account/security"' in home.text
    assert 'data-testid="welcome-dismiss"' in home.text
    assert 'data-testid="welcome-phone"' not in home.text


async def test_joining_lands_on_the_phone_and_2fa_prompt(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    tenant, headers = await verified_owner(api, database)
    token = await invite(api, database, tenant, headers)
    joined = await api.post(
        "/accept-invite",
        data={"token": token, "full_name": "Nour Adel", "password": "olive-grove-771"},
        headers=HX,
    )
    assert joined.status_code == 204, joined.text
    assert joined.headers["HX-Redirect"] == "/?welcome=invite"
    home = await api.get("/?welcome=invite")
    assert home.status_code == 200 and 'data-welcome="invite"' in home.text
    assert 'data-testid="welcome-phone"' in home.text and 'data-testid="welcome-2fa"' in home.text


async def test_no_prompt_without_or_with_an_unknown_welcome(
    client: httpx.AsyncClient, world: World
) -> None:
    for url in ("/", "/?welcome=1", "/?welcome=<script>", "/?welcome=" + "x" * 30):
        home = await client.get(url, headers=cookie(world))
        assert home.status_code == 200, url
        assert 'data-testid="welcome-prompt"' not in home.text


async def test_no_prompt_for_who_may_take_none_of_the_steps(
    client: httpx.AsyncClient, world: World
) -> None:
    """A person without a role may not manage 2FA or verify a phone: nothing to offer."""
    home = await client.get("/?welcome=invite", headers=cookie(world, "member"))
    assert home.status_code == 200 and 'data-testid="welcome-prompt"' not in home.text
