"""Browser harness: Debian Chromium driven by Playwright against a live server.

Without /usr/bin/chromium the browser tests are skipped locally but FAIL under CI
(`CI=true`): CI must never pass with its browser tests silently skipped.

Tests stay plain sync functions (Playwright's sync API). `live_app` is the app under test:
a test package overrides it to serve something else; `live_server` serves it once per session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from m3crm.app import create_app
from m3crm.settings import Settings
from tests.conftest import World
from tests.live import serve

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser tests (Chromium via Playwright)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{CHROMIUM} is missing and CI=true: browser tests must run, never be skipped"
                " in CI. Install it first: apt-get install -y chromium"
            )
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_app(settings: Settings, world: World) -> FastAPI:
    """The whole app on the test database (committed data only); override to serve another.

    It depends on `world` so the async seeding runs before Playwright's own loop starts:
    tests list `live_server` before `page` for that reason.
    """
    return create_app(settings)


@pytest.fixture(scope="session")
def live_server(live_app: FastAPI) -> Iterator[str]:
    """Base URL (`http://127.0.0.1:<free port>`) of `live_app` served by uvicorn in a thread."""
    with serve(live_app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
