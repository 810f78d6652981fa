"""Provisional error page (being replaced)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse


def render_error_page(
    request: Request, status_code: int, code: str, message: str, request_id: str | None
) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><h1>{status_code}</h1><p>{code}</p>", status_code)
