"""Kernel benchmark: an authenticated, tenant-scoped GET of one row (`/v1/runs/{id}`).

One server process (uvicorn, no in-process worker), 32 concurrent keep-alive
connections from a small raw-socket client, and — in the same run — the raw SQL of the
same request (bind tenant, load user + permissions, fetch the row) timed directly with
psycopg, so the API overhead is a difference measured under the same machine load.

Usage: `.venv/bin/python bench/kernel.py [--seconds 10] [--concurrency 32]`
Prints a Markdown table; `docs/PERFORMANCE.md` records the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import psycopg
import uvloop
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import cpu_seconds, running_server  # noqa: E402
from m3crm.app import register_modules  # noqa: E402
from m3crm.kernel.auth import load_subject  # noqa: E402
from m3crm.kernel.db.session import Database  # noqa: E402
from m3crm.kernel.runs.service import run as run_service  # noqa: E402
from m3crm.kernel.tokens import mint_access_token  # noqa: E402
from tests.factories import make_tenant  # noqa: E402
from tests.harness import MigratedDatabase, build_test_database  # noqa: E402
from tests.live import free_port  # noqa: E402
from tests.run_handlers import TEST_RUN  # noqa: E402


async def seed(db: Database, owner_url: str) -> tuple[UUID, UUID, UUID]:
    engine = create_async_engine(owner_url)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug="bench", plan_code="DevPro")
    await engine.dispose()
    async with db.transaction(tenant.id) as session:
        subject = await load_subject(session, tenant.id, tenant.admin_id)
        assert subject is not None
        from m3crm.kernel.runs.queue import build_job_app

        run = await run_service.dispatch(
            session, subject, build_job_app(), TEST_RUN, {}, permission="ops.runs.read"
        )
        return tenant.id, tenant.admin_id, run.id


async def http_load(
    port: int, path: str, token: str, seconds: float, concurrency: int
) -> list[float]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies


def raw_sql_latencies(app_libpq: str, tenant: UUID, user: UUID, run: UUID, n: int) -> list[float]:
    """The request's SQL, statement for statement, on one connection."""
    out: list[float] = []
    with psycopg.connect(app_libpq) as conn:
        for _ in range(n):
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('app.tenant_id', %s, true),"
                    " set_config('app.user_id', %s, true)",
                    (str(tenant), str(user)),
                )
                conn.execute(
                    "SELECT u.*, t.status FROM users u JOIN tenants t ON t.id = u.tenant_id"
                    " WHERE u.tenant_id = %s AND u.id = %s",
                    (tenant, user),
                ).fetchone()
                conn.execute(
                    "SELECT DISTINCT rp.permission_code FROM role_permissions rp"
                    " JOIN user_roles ur ON ur.tenant_id = rp.tenant_id AND ur.role_id = rp.role_id"
                    " WHERE ur.tenant_id = %s AND ur.user_id = %s",
                    (tenant, user),
                ).fetchall()
                conn.execute(
                    "SELECT * FROM operation_runs WHERE tenant_id = %s AND id = %s", (tenant, run)
                ).fetchone()
            out.append(time.perf_counter() - started)
    return out


@dataclass(frozen=True, slots=True)
class Prepared:
    """A migrated bench database with one tenant, its admin, one run, the admin's access
    token, and the environment a server under test needs."""

    test_db: MigratedDatabase
    tenant: UUID
    user: UUID
    run: UUID
    token: str
    env: dict[str, str]


async def prepare(concurrency: int) -> Prepared:
    register_modules()
    test_db = build_test_database("m3crm_bench")
    db = Database(test_db.urls, pool_size=2)
    tenant, user, run = await seed(db, test_db.urls.owner.render_as_string(hide_password=False))
    await db.dispose()
    with psycopg.connect(test_db.urls.owner_libpq, autocommit=True) as conn:
        conn.execute("ANALYZE")  # planner statistics, as autovacuum keeps them in production
    env = {
        "DATABASE_URL": test_db.urls.owner.render_as_string(hide_password=False),
        "M3CRM_DB_POOL_SIZE": str(concurrency),
    }
    token = mint_access_token(test_db.settings, tenant_id=tenant, user_id=user)
    return Prepared(test_db, tenant, user, run, token, env)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--profile", type=Path, help="cProfile the server into this file")
    args = parser.parse_args()

    bench = await prepare(args.concurrency)
    port = free_port()
    token = bench.token
    async with running_server(port, bench.env, workers=args.workers, profile=args.profile) as pid:
        path = f"/v1/runs/{bench.run}"
        await http_load(port, path, token, 2.0, args.concurrency)  # warm-up
        cpu_before = cpu_seconds(pid)
        loaded = await http_load(port, path, token, args.seconds, args.concurrency)
        server_cpu = (cpu_seconds(pid) - cpu_before) / len(loaded)
        single = await http_load(port, path, token, 3.0, 1)
        raw = raw_sql_latencies(
            bench.test_db.urls.app_libpq, bench.tenant, bench.user, bench.run, 2000
        )

    throughput = len(loaded) / args.seconds
    overhead = statistics.median(single) * 1000 - statistics.median(raw) * 1000
    rows = [
        (f"throughput at {args.concurrency} connections", f"{throughput:,.0f} req/s"),
        (
            f"p50 / p95 at {args.concurrency} connections",
            f"{pct(loaded, 0.5):.2f} / {pct(loaded, 0.95):.2f} ms",
        ),
        (
            f"server CPU per request at {args.concurrency} connections",
            f"{server_cpu * 1000:.2f} ms",
        ),
        ("p50 one connection (server time)", f"{statistics.median(single) * 1000:.2f} ms"),
        ("p50 raw SQL of the same request", f"{statistics.median(raw) * 1000:.2f} ms"),
        ("API overhead over raw SQL (p50)", f"{overhead:.2f} ms"),
        (
            "ratio server / raw SQL (p50)",
            f"{statistics.median(single) / statistics.median(raw):.2f}x",
        ),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    uvloop.run(main())
