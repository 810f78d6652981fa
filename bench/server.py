"""The server under test, shared by the benches: `m3crm.app:create_app` under uvicorn
(uvloop + httptools) in its own process(es), so the load generator never runs in the
server's process.

`workers > 1` runs uvicorn's multi-process supervisor (the same as `m3crm web --workers`);
`profile` runs a single worker under cProfile and writes its stats there on exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BENCH_LIMITS = {
    "M3CRM_RATE_LIMIT_IP": "10000000/minute",
    "M3CRM_RATE_LIMIT_USER": "10000000/minute",
    "M3CRM_RATE_LIMIT_TENANT": "10000000/minute",
    "M3CRM_LOG_LEVEL": "WARNING",
}
"""Rate limits a load test would trip at once, and no per-request log lines."""


PRODUCT_APP = "m3crm.app:create_app"


def server_command(
    port: int, *, workers: int = 1, profile: Path | None = None, app: str = PRODUCT_APP
) -> list[str]:
    """The uvicorn command line of the server under test (`app`: an app factory)."""
    if profile is not None and workers != 1:
        raise ValueError("profile one worker at a time")
    runner = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return [
        sys.executable, *runner, "-m", "uvicorn", app, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip


async def wait_for_port(port: int) -> None:
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by `pid` and its live descendants (Linux
    /proc), i.e. by the whole server whatever its worker count. Under a noisy machine this
    moves far less than latency does, so it is the fair measure of per-request cost."""
    proc = Path("/proc") / str(pid)
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        children = (proc / "task" / str(pid) / "children").read_text().split()
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / _TICKS
    return own + sum(cpu_seconds(int(child)) for child in children)


@asynccontextmanager
async def running_server(
    port: int,
    env: Mapping[str, str],
    *,
    workers: int = 1,
    profile: Path | None = None,
    app: str = PRODUCT_APP,
) -> AsyncIterator[int]:
    """Start the server, wait until it listens, yield its pid, stop it (SIGINT: a clean
    shutdown, so a profile is written) when the block ends."""
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        server_command(port, workers=workers, profile=profile, app=app),
        env={**os.environ, **BENCH_LIMITS, **env},
        cwd=ROOT,
    )
    try:
        await wait_for_port(port)
        yield server.pid
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
