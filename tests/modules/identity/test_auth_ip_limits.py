"""The per-IP limits of the endpoints that take a credential instead of a session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from tests.modules.identity.test_auth import api, sign_up, slug  # noqa: F401

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def login(api: httpx.AsyncClient) -> httpx.Response:  # noqa: F811
    email = f"ip-{uuid4().hex[:8]}@example.com"  # a new account each time: not login.account
    return await api.post("/v1/auth/login", json={"email": email, "password": "x" * 12})


async def signup(api: httpx.AsyncClient) -> httpx.Response:  # noqa: F811
    return await sign_up(api, workspace=slug())


async def forgot(api: httpx.AsyncClient) -> httpx.Response:  # noqa: F811
    email = f"ip-{uuid4().hex[:8]}@example.com"
    return await api.post("/v1/auth/forgot-password", json={"email": email})


async def reset(api: httpx.AsyncClient) -> httpx.Response:  # noqa: F811
    return await api.post(
        "/v1/auth/reset-password", json={"token": "x" * 40, "password": "maple-stone-551"}
    )


async def forgot_same_account(api: httpx.AsyncClient) -> httpx.Response:  # noqa: F811
    return await api.post("/v1/auth/forgot-password", json={"email": "same@example.com"})


@pytest.mark.parametrize(
    ("name", "call", "allowed"),
    [
        ("login.ip", login, 401),
        ("signup.ip", signup, 201),
        ("reset.ip", forgot, 202),
        ("token.ip", reset, 400),
        ("reset.account", forgot_same_account, 202),
    ],
)
async def test_auth_limits_answer_429(
    app: FastAPI,
    api: httpx.AsyncClient,  # noqa: F811
    name: str,
    call: Call,
    allowed: int,
) -> None:
    original = app.state.settings
    limits = {**original.auth_rate_limits, name: "2/minute"}
    app.state.settings = original.model_copy(update={"auth_rate_limits": limits})
    try:
        statuses = [(await call(api)).status_code for _ in range(3)]
    finally:
        app.state.settings = original
    assert statuses[:2] == [allowed, allowed]
    assert statuses[2] == 429
