"""Loopback stand-ins for Brevo and Infobip, for contract tests and benchmarks.

Each fake answers its endpoints as the provider documents (Appendix A), records every
request, and remembers every idempotency key / client message id it accepted: a repeat
is answered with the same provider id and counted in `duplicates`. `fail_next(...)`
scripts the answers of the next requests (429, 500, 401, 400, a 2xx that is not JSON,
REJECTED status, or a slow answer that outlives a client timeout). The happy path does
no sleeping and keeps O(1) bookkeeping, so a benchmark can drive it hard.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.live import free_port


class Fault(StrEnum):
    RATE_LIMITED = "429"
    SERVER_ERROR = "500"
    UNAUTHORIZED = "401"
    BAD_REQUEST = "400"
    MALFORMED = "malformed"
    REJECTED = "rejected"
    SLOW = "slow"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


Handler = Callable[[Request, Any], Awaitable[Response]]


class FakeProvider(ABC):
    """State shared by both fakes: the request log, accepted ids, and the fault script.

    A SLOW request is processed (its id accepted) before the fake sleeps `slow_seconds`,
    like a provider that sent the message but answered too late: the client's retry is
    then a duplicate.
    """

    canned: dict[Fault, tuple[int, Any]]
    """The answer (status, JSON body) of each scripted fault this fake knows."""

    def __init__(self, *, slow_seconds: float = 1.0) -> None:
        self.slow_seconds = slow_seconds
        self.requests: list[RecordedRequest] = []
        self.accepted: dict[str, str] = {}
        self.duplicates = 0
        self._script: deque[Fault] = deque()
        self._ids = itertools.count(1)

    def fail_next(self, *faults: Fault) -> None:
        """The next requests answer these faults, one each, in order."""
        unknown = set(faults) - set(self.canned) - {Fault.MALFORMED, Fault.SLOW}
        if unknown:
            raise ValueError(f"{type(self).__name__} cannot answer {sorted(unknown)}")
        self._script.extend(faults)

    def reset_script(self) -> None:
        """Forget the faults not yet answered."""
        self._script.clear()

    def reset(self) -> None:
        self.requests.clear()
        self.accepted.clear()
        self.duplicates = 0
        self._script.clear()

    def accept(self, key: str | None, new_id: Callable[[int], str]) -> str:
        """The provider id for idempotency `key`: the one already given, or a new one."""
        if key is not None and key in self.accepted:
            self.duplicates += 1
            return self.accepted[key]
        provider_id = new_id(next(self._ids))
        if key is not None:
            self.accepted[key] = provider_id
        return provider_id

    @abstractmethod
    def authorised(self, request: Request) -> bool:
        """Whether the request carries the provider's credential header at all."""

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wraps a success handler with recording, the credential check and the script."""

        async def serve(request: Request) -> Response:
            payload = await request.json()
            self.requests.append(
                RecordedRequest(request.method, request.url.path, dict(request.headers), payload)
            )
            fault = self._script.popleft() if self._script else None
            if not self.authorised(request):
                fault = Fault.UNAUTHORIZED
            if fault is Fault.MALFORMED:
                return PlainTextResponse("<html>gateway hiccup</html>", status_code=200)
            if fault in self.canned:
                status, body = self.canned[fault]
                return JSONResponse(body, status_code=status)
            response = await handler(request, payload)
            if fault is Fault.SLOW:
                await asyncio.sleep(self.slow_seconds)
            return response

        return serve


class FakeBrevo(FakeProvider):
    """`POST /v3/smtp/email`; as Brevo documents, the dedup key is the body's
    `headers.idempotencyKey` (an HTTP `Idempotency-Key` header is ignored)."""

    canned = {
        Fault.RATE_LIMITED: (429, {"code": "too_many_requests", "message": "Rate limit hit"}),
        Fault.SERVER_ERROR: (500, {"code": "internal_error", "message": "Internal error"}),
        Fault.UNAUTHORIZED: (401, {"code": "unauthorized", "message": "Key not found"}),
        Fault.BAD_REQUEST: (400, {"code": "invalid_parameter", "message": "email is not valid"}),
    }

    def __init__(self, *, slow_seconds: float = 1.0) -> None:
        super().__init__(slow_seconds=slow_seconds)
        self.app = Starlette(
            routes=[Route("/v3/smtp/email", self.endpoint(self._send), methods=["POST"])]
        )

    def authorised(self, request: Request) -> bool:
        return bool(request.headers.get("api-key"))

    async def _send(self, request: Request, payload: Any) -> Response:
        headers = payload.get("headers") if isinstance(payload, dict) else None
        key = headers.get("idempotencyKey") if isinstance(headers, dict) else None
        message_id = self.accept(
            key if isinstance(key, str) else None,
            lambda n: f"<{n:012d}.fake@smtp-relay.brevo>",
        )
        return JSONResponse({"messageId": message_id}, status_code=201)


def _infobip_error(http_status: int, code: str) -> tuple[int, Any]:
    return http_status, {"requestError": {"serviceException": {"messageId": code, "text": code}}}


class FakeInfobip(FakeProvider):
    """SMS `POST /sms/2/text/advanced` and WhatsApp `POST /whatsapp/1/message/text`.

    As Infobip does, a client-chosen `messageId` becomes the message's id; without one the
    fake makes one up. A repeated `messageId` is counted in `duplicates` (a measurement:
    Infobip documents no rejection of repeats, so production delivery is at-least-once).
    """

    PENDING = {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "MESSAGE_ACCEPTED"}
    REJECTED = {"groupId": 5, "groupName": "REJECTED", "id": 51, "name": "REJECTED_DESTINATION"}
    canned = {
        Fault.RATE_LIMITED: _infobip_error(429, "TOO_MANY_REQUESTS"),
        Fault.SERVER_ERROR: _infobip_error(500, "GENERAL_ERROR"),
        Fault.UNAUTHORIZED: _infobip_error(401, "UNAUTHORIZED"),
        Fault.BAD_REQUEST: _infobip_error(400, "BAD_REQUEST"),
        Fault.REJECTED: (200, {"messages": [{"messageId": "rejected-1", "status": REJECTED}]}),
    }

    def __init__(self, *, slow_seconds: float = 1.0) -> None:
        super().__init__(slow_seconds=slow_seconds)
        self.app = Starlette(
            routes=[
                Route("/sms/2/text/advanced", self.endpoint(self._sms), methods=["POST"]),
                Route("/whatsapp/1/message/text", self.endpoint(self._whatsapp), methods=["POST"]),
            ]
        )

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "").startswith("App ")

    def _result(self, to: str, client_id: str | None) -> dict[str, Any]:
        message_id = self.accept(client_id, lambda n: client_id or f"fake-{n:012d}")
        return {"to": to, "messageId": message_id, "status": self.PENDING}

    async def _sms(self, request: Request, payload: Any) -> Response:
        results = [
            self._result(destination["to"], destination.get("messageId"))
            for message in payload["messages"]
            for destination in message["destinations"]
        ]
        return JSONResponse({"bulkId": "fake-bulk", "messages": results})

    async def _whatsapp(self, request: Request, payload: Any) -> Response:
        return JSONResponse({"messages": [self._result(payload["to"], payload.get("messageId"))]})


@contextmanager
def serve_fake(app: Starlette) -> Iterator[str]:
    """Serve `app` on a free loopback port in a thread until the block ends; yields
    the base URL. As `tests.live.serve`, without lifespan or access log."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake provider did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
