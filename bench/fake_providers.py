"""Fake Brevo and Infobip (tests/contracts/fakes.py) in their own process, for benches.

`python bench/fake_providers.py BREVO_PORT INFOBIP_PORT`; `GET /_stats` on either port
answers `{"accepted": distinct messages, "duplicates": repeated ones}`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.contracts.fakes import FakeBrevo, FakeInfobip, FakeProvider


def with_stats(fake: FakeProvider) -> Starlette:
    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"accepted": len(fake.accepted), "duplicates": fake.duplicates})

    fake.requests = _Discard()
    return Starlette(routes=[Route("/_stats", stats), Mount("/", app=fake.app)])


class _Discard(list):  # type: ignore[type-arg]
    """A request log that keeps nothing (a benchmark sends thousands)."""

    def append(self, item: object) -> None:
        return None


async def main(brevo_port: int, infobip_port: int) -> None:
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                with_stats(fake), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, lifespan="off", loop="uvloop", http="httptools",
            )
        )
        for fake, port in ((FakeBrevo(), brevo_port), (FakeInfobip(), infobip_port))
    ]  # fmt: skip
    await asyncio.gather(*(server.serve() for server in servers))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
