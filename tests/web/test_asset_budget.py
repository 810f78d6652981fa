"""The first signed-in page ships at most 150 KB of JS and CSS, gzipped (issue 5)."""

from __future__ import annotations

import gzip
import re

import httpx

from bench.shell import BUDGET_BYTES, DIST
from tests.conftest import World
from tests.web.test_pages import cookie


async def test_first_page_assets_fit_the_budget(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/", headers=cookie(world))
    files = re.findall(r'(?:src|href)="/static/dist/([^"]+\.(?:js|css))"', page.text)
    assert {f.split(".")[0] for f in files} >= {"app", "htmx", "alpine", "shell"}
    total = sum(len(gzip.compress((DIST / f).read_bytes(), compresslevel=9)) for f in files)
    assert total <= BUDGET_BYTES, f"{total} bytes gzipped: {files}"
