"""Request middleware (pure ASGI, cheap on the hot path).

Per request: honour or generate `X-Request-Id` and echo it; bind request id / ip / user
agent to the log and audit context; refuse bodies over the configured size (413) before
the app reads them; count per-IP rate limits; record Prometheus metrics.
"""

from __future__ import annotations

import re
import time
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from m3crm.kernel.context import RequestContext, set_request
from m3crm.kernel.errors import DomainError, PayloadTooLarge, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import new_id
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.kernel.web.errors import json_error_body

REQUESTS = Counter("m3crm_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "m3crm_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
log = structlog.get_logger("m3crm.http")

_upload_paths: set[str] = set()


def allow_uploads(path: str) -> None:
    """Let requests to exactly `path` carry up to `max_upload_bytes` (file imports);
    every other path keeps `max_body_bytes`. Modules call this from `register()`."""
    _upload_paths.add(path)


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limiter: RateLimiter,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes or max_body_bytes
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_id().hex
        client = scope.get("client")
        ip = client[0] if client else None
        set_request(RequestContext(request_id, ip, headers.get("user-agent")))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        limit = self.max_upload_bytes if scope["path"] in _upload_paths else self.max_body_bytes
        try:
            if declared > limit:
                raise PayloadTooLarge()
            if _has_nul(scope):
                raise ValidationFailed(
                    {"query": N_("The address contains a character that cannot be used.")}
                )
            if ip:
                await self.limiter.hit_ip(ip)
        except DomainError as exc:
            await _send_error(send_with_id, exc, request_id)
        else:
            await self.app(scope, self._limited(receive, limit), send_with_id)
        finally:
            route = _route_of(scope)
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], route, str(status_holder["status"])).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)

    def _limited(self, receive: Receive, limit: int) -> Receive:
        """Count streamed body bytes too (chunked bodies declare no length)."""
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge()
            return message

        return wrapped


def _route_of(scope: Scope) -> str:
    route: Any = scope.get("route")
    path: str | None = getattr(route, "path", None)
    return path or "unmatched"


async def _send_error(send: Send, exc: DomainError, request_id: str) -> None:
    body = json_error_body(exc.code, exc.message, exc.details, request_id)
    headers = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _has_nul(scope: Scope) -> bool:
    """A NUL in the path or query (PostgreSQL text can never hold one): refused up front,
    as 422, so no handler ever passes it to the database."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query
