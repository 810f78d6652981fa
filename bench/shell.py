"""Shell benchmark: server time of the signed-in pages, and the bytes a first page ships.

The app runs in-process (ASGI transport, one request at a time), so each timing is the
server's own time for the request: authentication, the shell's preferences and plan
lookup, the page's queries and the template render. The ratio against a minimal signed-in
JSON call (`GET /v1/me/settings`, same authentication) isolates what the shell adds.

The asset budget counts what a first signed-in page loads: app.css, htmx, Alpine, Alpine
Focus and shell.js, gzip-compressed at level 9 as a server would send them.

Usage: `.venv/bin/python bench/shell.py [--requests 300]`
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sys
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402

from bench.kernel import pct  # noqa: E402
from m3crm.app import create_app, register_modules  # noqa: E402
from m3crm.kernel.auth import ACCESS_COOKIE  # noqa: E402
from m3crm.kernel.db.session import Database  # noqa: E402
from m3crm.kernel.tokens import mint_access_token  # noqa: E402
from tests.factories import make_tenant  # noqa: E402
from tests.harness import build_test_database  # noqa: E402

DIST = ROOT / "src" / "m3crm" / "web" / "static" / "dist"
FIRST_PAGE_ASSETS = ("app.css", "htmx.js", "alpine.js", "alpine-focus.js", "shell.js")
BUDGET_BYTES = 150 * 1024
PAGES = ("/", "/notifications", "/account/settings", "/monitoring/runs", "/admin/users")


def shipped_bytes() -> dict[str, int]:
    """Gzipped size of each asset a first signed-in page loads."""
    manifest = json.loads((DIST / "manifest.json").read_text())
    return {
        name: len(gzip.compress((DIST / manifest[name]).read_bytes(), compresslevel=9))
        for name in FIRST_PAGE_ASSETS
    }


async def timed(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], n: int
) -> list[float]:
    for _ in range(20):  # warm caches (templates, statements, pool)
        await client.get(path, headers=headers)
    samples: list[float] = []
    for _ in range(n):
        start = time.perf_counter()
        response = await client.get(path, headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    db = build_test_database("m3crm_bench_shell")
    engine = create_async_engine(db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug=f"bench-{uuid4().hex[:6]}", plan_code="DevPro")
    await engine.dispose()

    register_modules()
    database = Database(db.urls)
    app = create_app(db.settings, database=database)
    app.state.database = database
    token = mint_access_token(db.settings, tenant_id=tenant.id, user_id=tenant.admin_id)
    page_headers = {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}
    api_headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        baseline = await timed(client, "/v1/me/settings", api_headers, args.requests)
        rows = [(path, await timed(client, path, page_headers, args.requests)) for path in PAGES]
    await database.dispose()

    base_p50, base_p95 = pct(baseline, 0.5), pct(baseline, 0.95)
    print(f"baseline GET /v1/me/settings: p50 {base_p50:.2f} ms, p95 {base_p95:.2f} ms")
    for path, samples in rows:
        p50, p95 = pct(samples, 0.5), pct(samples, 0.95)
        print(
            f"page {path}: p50 {p50:.2f} ms, p95 {p95:.2f} ms"
            f" (p95 ratio to baseline {p95 / base_p95:.2f}x)"
        )
    sizes = shipped_bytes()
    total = sum(sizes.values())
    print("first page assets (gzip):", {k: f"{v / 1024:.1f} KB" for k, v in sizes.items()})
    print(f"total {total / 1024:.1f} KB of {BUDGET_BYTES / 1024:.0f} KB budget")


if __name__ == "__main__":
    asyncio.run(main())
