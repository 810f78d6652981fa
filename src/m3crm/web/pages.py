"""Public pages of the shell: home, language switch, static files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from m3crm.kernel.auth import OptionalSubject
from m3crm.kernel.i18n import N_, SUPPORTED_LOCALES
from m3crm.web.nav import NavItem, register_nav
from m3crm.web.templating import LOCALE_COOKIE, render

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"


def register_shell_items() -> None:
    """The shell's own navigation: the signed-in home."""
    register_nav(NavItem("home", N_("Home"), "/", None, icon="home", order=0))


WELCOME_KINDS = frozenset({"signup", "invite"})
"""`/?welcome=<kind>`: where sign-up (`signup`) and accepting an invitation (`invite`) land.
The home page then offers the optional security steps of spec §1 §10 (2FA, phone) as a
dismissible prompt, never a blocker, and only to people who may take one of the steps;
any other value shows nothing."""


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    subject: OptionalSubject,
    welcome: str | None = None,
) -> HTMLResponse:
    """Signed in: the home of the workspace (today, the screens one may use, what is new,
    and after sign-up or joining the welcome prompt). Signed out: the public welcome page,
    in the visitor's language."""
    if subject is None:
        return render(request, "home.html")
    context = {"now": datetime.now(UTC), "welcome": welcome if welcome in WELCOME_KINDS else None}
    return render(request, "dashboard.html", context)


@router.get("/lang/{code}")
async def switch_language(
    code: str, next: Annotated[str, Query(max_length=500)] = "/"
) -> RedirectResponse:
    """Remember the language in a cookie and go back (only to a local path)."""
    local = next.startswith("/") and not next.startswith(("//", "/\\")) and "\\" not in next
    target = next if local else "/"
    response = RedirectResponse(target, status_code=303)
    if code in SUPPORTED_LOCALES:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


class _CachedStatic(StaticFiles):
    """Hashed files under `dist/` never change: cache them for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if path.startswith("dist/") and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_static(app: FastAPI) -> None:
    """Serve `web/static` at `/static`; files under `dist/` carry content hashes in their
    names, so they are cached as immutable (a new build gets new names)."""
    STATIC.mkdir(exist_ok=True)
    app.mount("/static", _CachedStatic(directory=str(STATIC)), name="static")
