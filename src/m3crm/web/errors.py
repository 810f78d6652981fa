"""Readable, translated error pages (and HTMX partials); never a stack trace."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

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


ALERTS_TARGET = "#page-alerts"


def render_error_page(
    request: Request, status_code: int, code: str, message: str, request_id: str | None
) -> Response:
    """The error as a whole page in the visitor's language or, when htmx asked
    (`HX-Request`), as the `_error.html` partial retargeted into the layout's `#page-alerts`
    (so a failed row action never replaces the row with an alert).

    `message` must be an English msgid marked with `N_` (it is translated here) and must
    never carry exception text: no stack trace or internal detail reaches a page. The
    request id is shown so support can find the matching log line. Starlette's default
    detail (the bare English reason phrase, e.g. "Not Found") adds nothing to the translated
    title and is not shown.
    """
    if message == _reason_phrase(status_code):
        message = ""
    partial = request.headers.get("hx-request") == "true"
    if status_code == 401 and request.url.path not in SIGN_IN_PATHS:
        return _to_sign_in(request, partial)
    response = render(
        request,
        "errors/_error.html" if partial else "errors/error.html",
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
    if partial:
        response.headers["HX-Retarget"] = ALERTS_TARGET
        response.headers["HX-Reswap"] = "innerHTML"
    return response


SIGN_IN_PATHS = frozenset({"/login", "/login/2fa", "/login/2fa/send"})


def _to_sign_in(request: Request, partial: bool) -> Response:
    """A page that needs a signed-in user sends the visitor to sign in, then back."""
    target = "/login?" + urlencode({"next": request.url.path})
    if partial:
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _reason_phrase(status_code: int) -> str | None:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return None
