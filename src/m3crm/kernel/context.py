"""Per-request context (request id, client ip, user agent, tenant, user) in contextvars.

Set by the request middleware and the job runner; read by logging and the audit trail.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("m3crm_request", default=_EMPTY)


def current_request() -> RequestContext:
    return _current.get()


def set_request(ctx: RequestContext) -> None:
    _current.set(ctx)
