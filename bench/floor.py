"""How much of a request the stack itself costs: the product's `GET /v1/runs/{id}`
against apps that do strictly less (`bench/floor_apps.py`), served and loaded the same
way, interleaved in one run.

If even the smallest app that keeps the tenancy canon (`fastapi_db`) cannot reach a
target on this machine, no change to the product's own code can: the target then asks
for more processes or a different stack, not for better code.

Usage: `.venv/bin/python bench/floor.py [--seconds 8] [--rounds 2]`
Prints a Markdown table; `docs/PERFORMANCE.md` records the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kernel import http_load, pct, prepare  # noqa: E402
from bench.server import PRODUCT_APP, cpu_seconds, running_server  # noqa: E402
from tests.live import free_port  # noqa: E402

APPS = {
    "Starlette, constant JSON": "bench.floor_apps:starlette_json",
    "FastAPI, constant JSON": "bench.floor_apps:fastapi_json",
    "FastAPI + tenant-bound transaction on psycopg alone": "bench.floor_apps:fastapi_psycopg",
    "FastAPI + tenant-bound transaction on SQLAlchemy": "bench.floor_apps:fastapi_db",
    "the product (`/v1/runs/{id}`)": PRODUCT_APP,
}


Measured = tuple[float, float, float, float]
"""Throughput (req/s), p50 and p95 (ms), server CPU per request (ms)."""


async def measure(
    app: str, env: dict[str, str], path: str, token: str, args: argparse.Namespace
) -> Measured:
    """One app under the bench's load: 2 s of warm-up, then `args.seconds` measured."""
    port = free_port()
    async with running_server(port, env, app=app) as pid:
        await http_load(port, path, token, 2.0, args.concurrency)
        cpu_before = cpu_seconds(pid)
        loaded = await http_load(port, path, token, args.seconds, args.concurrency)
        cpu = (cpu_seconds(pid) - cpu_before) / len(loaded)
    return len(loaded) / args.seconds, pct(loaded, 0.5), pct(loaded, 0.95), cpu * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    bench = await prepare(args.concurrency)
    env = {**bench.env, "BENCH_TENANT_ID": str(bench.tenant)}
    results: dict[str, list[Measured]] = {name: [] for name in APPS}
    for _ in range(args.rounds):
        for name, app in APPS.items():
            results[name].append(
                await measure(app, env, f"/v1/runs/{bench.run}", bench.token, args)
            )

    product_cpu = statistics.median(r[3] for r in results[next(reversed(APPS))])
    print(
        f"| app ({args.concurrency} connections, median of {args.rounds} rounds) "
        "| req/s | p50 / p95 | server CPU per request | share of the product's CPU |"
    )
    print("|---|---|---|---|---|")
    for name, rounds in results.items():
        rps, p50, p95, cpu = (statistics.median(r[i] for r in rounds) for i in range(4))
        print(
            f"| {name} | {rps:,.0f} | {p50:.1f} / {p95:.1f} ms | {cpu:.2f} ms "
            f"| {cpu / product_cpu:.2f} |"
        )


if __name__ == "__main__":
    uvloop.run(main())
