"""Error handlers: one JSON shape for `/v1`, readable pages elsewhere (ARCHITECTURE §4).

Nothing reaches a client as a stack trace: unexpected exceptions are logged with the
request id and answered as a generic 500 carrying that id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from m3crm.kernel.entitlements import report_limit_refusal
from m3crm.kernel.errors import DomainError, LimitReached
from m3crm.kernel.i18n import N_

log = structlog.get_logger("m3crm.errors")

HtmlRenderer = Callable[[Request, int, str, str, str | None], Response]

_HTTP_CODES = {
    401: "AUTH_INVALID_CREDENTIALS",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def json_error_body(
    code: str, message: str, details: dict[str, Any], request_id: str | None
) -> bytes:
    payload = {
        "error": {"code": code, "message": message, "details": details, "request_id": request_id}
    }
    return json.dumps(payload, default=str).encode()


def _wants_json(request: Request) -> bool:
    """`/v1` and operations endpoints always get JSON; htmx requests and browsers get pages."""
    path = request.url.path
    if path.startswith("/v1") or path in {"/healthz", "/readyz", "/metrics", "/openapi.json"}:
        return True
    if request.headers.get("hx-request") == "true":
        return False
    return "text/html" not in request.headers.get("accept", "")


def _field_errors(exc: RequestValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        fields.setdefault(".".join(loc) or "body", str(error.get("msg", "Invalid value.")))
    return fields


def install_error_handlers(app: FastAPI, render_html: HtmlRenderer) -> None:
    def respond(
        request: Request,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> Response:
        request_id: str | None = getattr(request.state, "request_id", None)
        if _wants_json(request):
            return Response(
                json_error_body(code, message, details, request_id),
                status_code=status,
                media_type="application/json",
                headers=headers,
            )
        response = render_html(request, status, code, message, request_id)
        if headers:
            response.headers.update(headers)
        return response

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        subject = getattr(request.state, "subject", None)
        if isinstance(exc, LimitReached) and subject is not None:
            await report_limit_refusal(request.app.state.database, subject, exc)
        return respond(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return respond(
            request,
            422,
            "VALIDATION_ERROR",
            "Some fields are invalid.",
            {"fields": _field_errors(exc)},
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return respond(request, exc.status_code, code, message, {}, dict(exc.headers or {}))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        return respond(request, 500, "INTERNAL_ERROR", N_("Something went wrong on our side."), {})

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def json_only(request: Request, status: int, code: str, message: str, rid: str | None) -> Response:
    """Renderer for apps without HTML pages (tests, API-only deployments)."""
    return JSONResponse({"error": {"code": code, "message": message, "details": {}}}, status)
