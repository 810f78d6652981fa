"""The security page's forms that check a code or a password count against the same
per-account limit as the API (`twofa.account`): guessing through the page stops too."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import World
from tests.modules.identity.test_twofa import htmx


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/account/security/totp/confirm", {"code": "000000"}),
        ("/account/security/totp/disable", {"password": "wrong-password-1", "code": "000000"}),
        ("/account/security/backup-codes/regenerate", {"password": "wrong-password-1"}),
    ],
)
async def test_security_page_code_checks_are_rate_limited_per_account(
    app: FastAPI, client: httpx.AsyncClient, world: World, path: str, form: dict[str, str]
) -> None:
    original = app.state.settings
    limits = {**original.auth_rate_limits, "twofa.account": "2/minute"}
    app.state.settings = original.model_copy(update={"auth_rate_limits": limits})
    try:
        statuses = [
            (await client.post(path, data=form, headers=htmx(world))).status_code for _ in range(3)
        ]
    finally:
        app.state.settings = original
    assert statuses[-1] == 429
