"""Identity benchmark: refresh-token rotation under load, and the cost of a password check.

The app is served by its own uvicorn process(es) (`bench/server.py`). 32 clients each
sign in once (`refresh_via: body`) before any timing, then rotate their refresh token in a
loop for a few seconds: every request is a full rotation (lock token and session, mark
used, issue a new token, mint an access token).
Separately, the Argon2id hash of the configured parameters is timed in-process.

Usage: `.venv/bin/python bench/identity.py [--seconds 8] [--concurrency 32] [--workers 1]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from bench.kernel import pct  # noqa: E402
from bench.server import cpu_seconds, running_server  # noqa: E402
from m3crm.app import register_modules  # noqa: E402
from m3crm.settings import Settings  # noqa: E402
from tests.harness import build_test_database  # noqa: E402
from tests.live import free_port  # noqa: E402

PASSWORD = "bench-river-lotus-4817"  # noqa: S105 (a throwaway bench account)


async def request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: dict[str, str]
) -> tuple[int, dict[str, str]]:
    raw = json.dumps(body).encode()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n\r\n".encode()
        + raw
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    payload = json.loads(await reader.readexactly(length))
    return int(head.split(b" ")[1]), payload


@dataclass(slots=True)
class Session:
    """One signed-in session: its current refresh token."""

    token: str


async def sign_in(port: int, email: str, count: int) -> list[Session]:
    """`count` sessions, signed in before any timing starts: a sign-in costs an Argon2id
    verify (~0.1-0.5 s of CPU), which must not land inside the rotation measurements."""
    sessions: list[Session] = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, body = await request(
            reader, writer, "/v1/auth/login",
            {"email": email, "password": PASSWORD, "refresh_via": "body"},
        )  # fmt: skip
        writer.close()
        if status != 200:
            raise RuntimeError(body)
        sessions.append(Session(body["refresh_token"]))
    return sessions


async def refresh_load(port: int, sessions: list[Session], seconds: float) -> list[float]:
    """Each session rotates its token in a loop on its own keep-alive connection
    (opened before the clock starts) for `seconds`; the rotation latencies."""
    latencies: list[float] = []
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in sessions]
    stop_at = time.perf_counter() + seconds

    async def rotate(
        session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, body = await request(
                reader, writer, "/v1/auth/refresh",
                {"refresh_token": session.token, "refresh_via": "body"},
            )  # fmt: skip
            if status != 200:
                raise RuntimeError(body)
            session.token = body["refresh_token"]
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(rotate(s, *c) for s, c in zip(sessions, connections, strict=True)))
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--profile", type=Path, help="cProfile the server into this file")
    args = parser.parse_args()
    register_modules()
    test_db = build_test_database("m3crm_bench_identity")
    owner = test_db.urls.owner.render_as_string(hide_password=False)
    port = free_port()
    env = {
        "DATABASE_URL": owner,
        "M3CRM_AUTH_RATE_LIMITS": json.dumps(
            {name: "10000000/minute" for name in Settings.model_fields["auth_rate_limits"].default}
        ),
        "M3CRM_DB_POOL_SIZE": str(args.concurrency),
    }
    email = "bench-owner@example.com"
    async with running_server(port, env, workers=args.workers, profile=args.profile) as pid:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, body = await request(
            reader, writer, "/v1/auth/register-super-admin",
            {"workspace_name": "Bench", "workspace_slug": "bench-ws", "full_name": "Bench",
             "email": email, "password": PASSWORD},
        )  # fmt: skip
        writer.close()
        if status != 201:
            raise RuntimeError(body)
        sessions = await sign_in(port, email, args.concurrency)
        await refresh_load(port, sessions, 2.0)  # warm-up
        cpu_before = cpu_seconds(pid)
        loaded = await refresh_load(port, sessions, args.seconds)
        server_cpu = (cpu_seconds(pid) - cpu_before) / len(loaded)
        single = await refresh_load(port, sessions[:1], 3.0)
    hasher = PasswordHasher()
    digest = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(20):
        hasher.verify(digest, PASSWORD)
    argon = (time.perf_counter() - started) / 20 * 1000
    n = args.concurrency
    params = f"t={hasher.time_cost}, m={hasher.memory_cost} KiB, p={hasher.parallelism}"
    rows = [
        (f"refresh throughput at {n} clients", f"{len(loaded) / args.seconds:,.0f} req/s"),
        (
            f"refresh p50 / p95 at {n} clients",
            f"{pct(loaded, 0.5):.2f} / {pct(loaded, 0.95):.2f} ms",
        ),
        (f"server CPU per refresh at {n} clients", f"{server_cpu * 1000:.2f} ms"),
        (
            "refresh p50 / p95 at 1 client (server time)",
            f"{pct(single, 0.5):.2f} / {pct(single, 0.95):.2f} ms",
        ),
        (f"Argon2id verify ({params})", f"{argon:.1f} ms"),
        ("ratio Argon2 verify / refresh (p50, 1 client)", f"{argon / pct(single, 0.5):.1f}x"),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    uvloop.run(main())
