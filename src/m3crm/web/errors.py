"""Readable, translated error pages (and HTMX partials); never a stack trace."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.i18n import N_
from m3crm.web.templating import render

TITLES = {
    401: N_("Please sign in"),
    402: N_("Your plan does not include this"),
    403: N_("You do not have access"),
    404: N_("Page not found"),
    409: N_("This cannot be done right now"),
    413: N_("The upload is too large"),
    422: N_("Some information is missing or invalid"),
    429: N_("Too many requests"),
    503: N_("The service is starting"),
}


def render_error_page(
    request: Request, status_code: int, code: str, message: str, request_id: str | None
) -> HTMLResponse:
    template = "errors/_error.html" if request.headers.get("hx-request") else "errors/error.html"
    return render(
        request,
        template,
        {
            "status_code": status_code,
            "code": code,
            "title": TITLES.get(status_code, N_("Something went wrong")),
            "message": message,
            "internal": status_code >= 500,
            "request_id": request_id,
        },
        status_code=status_code,
    )
