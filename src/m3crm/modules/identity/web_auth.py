"""Sign-in pages: sign in (with workspace choice and second step), sign up, verify e-mail,
forgot / reset password, accept an invitation, sign out, signed-in devices.

Every form posts through htmx, so every POST carries `HX-Request: true` — a header a
cross-site form cannot send; these handlers refuse a POST without it (CSRF). They call
the same services as `/v1/auth` and set the same cookies.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from m3crm.kernel.auth import (
    AuthSubject,
    DbSession,
    get_database,
    get_settings_dep,
    require,
    require_same_origin,
)
from m3crm.kernel.db.session import Database
from m3crm.kernel.errors import DomainError, NotAuthenticated, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.identity import (
    authentication,
    devices,
    email_links,
    invites,
    repository,
    sessions,
)
from m3crm.modules.identity.api_auth import (
    REFRESH_COOKIE,
    SLUG_PATTERN,
    AuthenticatorDep,
    clear_cookies,
    client_of,
    limit,
    respond,
)
from m3crm.modules.identity.authentication import (
    InvalidCredentials,
    SecondFactorInvalid,
    SecondFactorRequired,
    WorkspaceRequired,
)
from m3crm.modules.identity.one_time import InvalidToken
from m3crm.modules.identity.secrets import token_tenant
from m3crm.modules.identity.sessions import Issued
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.models import Channel
from m3crm.settings import Settings
from m3crm.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionsReader = Annotated[AuthSubject, Depends(require("session.read.self"))]
SessionsRevoker = Annotated[AuthSubject, Depends(require("session.revoke.self"))]

METHOD_LABELS = {
    "totp": N_("Code from your authenticator app"),
    "backup": N_("One of your backup codes"),
    "sms": N_("Code sent by SMS"),
    "whatsapp": N_("Code sent by WhatsApp"),
}
SEND_LABELS = {"sms": N_("Send me a code by SMS"), "whatsapp": N_("Send me a code by WhatsApp")}


def _safe_next(value: object) -> str:
    """Only a local path (never `//host` or a scheme) may be the place to go after."""
    text = str(value or "/")
    return text if text.startswith("/") and not text.startswith("//") else "/"


def _page(request: Request, heading: str, form: str, context: dict[str, Any]) -> HTMLResponse:
    return render(
        request,
        "identity/auth_page.html",
        {"heading": heading, "form_template": f"identity/{form}", **context},
    )


def _partial(request: Request, form: str, context: dict[str, Any]) -> HTMLResponse:
    return render(request, f"identity/{form}", context)


def _signed_in(request: Request, settings: Settings, issued: Issued, to: str) -> Response:
    """Set the cookies and send the browser on (htmx follows `HX-Redirect`)."""
    response = Response(status_code=204, headers={"HX-Redirect": to})
    respond(response, settings, issued, "cookie")
    return response


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> HTMLResponse:
    context = {"next": _safe_next(next), "email": "", "workspace": "", "errors": {}}
    return _page(request, N_("Sign in"), "_login_form.html", context)


@router.post("/v1/auth/session/resume")
async def resume(request: Request, settings: SettingsDep, database: DatabaseDep) -> Response:
    """The sign-in page asks this on load: a browser whose access cookie lapsed but whose
    refresh cookie (scoped to `/v1/auth`) still lives is signed back in and sent on, so a
    session lasts as long as its refresh token, not 15 minutes. Nothing to resume: 204."""
    require_same_origin(request)
    token = request.cookies.get(REFRESH_COOKIE)
    tenant_id = token_tenant(token or "")
    if token is None or tenant_id is None:
        return Response(status_code=204)
    await limit(request, "refresh.ip", client_of(request).ip or "?")
    try:
        issued = await sessions.refresh(database, settings, token)
    except NotAuthenticated:
        response = Response(status_code=204)
        clear_cookies(response)
        return response
    to = _safe_next(request.query_params.get("next"))
    return _signed_in(request, settings, issued, to)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, settings: SettingsDep, auth: AuthenticatorDep) -> Response:
    require_same_origin(request)
    data = await _form(request)
    context: dict[str, Any] = {
        "next": _safe_next(data.get("next")),
        "email": data.get("email", ""),
        "workspace": data.get("workspace", ""),
        "errors": {},
    }
    client = client_of(request)
    await limit(request, "login.ip", client.ip or "?")
    await limit(request, "login.account", context["email"].strip().lower())
    try:
        issued = await auth.login(
            context["email"], data.get("password", ""), context["workspace"] or None, client
        )
    except InvalidCredentials as exc:
        return _partial(request, "_login_form.html", {**context, "error": exc.message})
    except WorkspaceRequired as exc:
        workspaces = exc.details["workspaces"]
        return _partial(request, "_login_form.html", {**context, "workspaces": workspaces})
    except SecondFactorRequired as exc:
        return _partial(request, "_second_factor_form.html", _second_context(context, exc))
    return _signed_in(request, settings, issued, context["next"])


def _second_context(base: dict[str, Any], exc: SecondFactorRequired) -> dict[str, Any]:
    methods = list(exc.details["methods"])
    return {
        "next": base["next"],
        "challenge": exc.details["challenge"],
        "methods": methods,
        "method": methods[0],
        "method_labels": METHOD_LABELS,
        "send_labels": SEND_LABELS,
        "errors": {},
    }


@router.post("/login/2fa", response_class=HTMLResponse)
async def login_second_factor(
    request: Request, settings: SettingsDep, auth: AuthenticatorDep
) -> Response:
    require_same_origin(request)
    data = await _form(request)
    client = client_of(request)
    await limit(request, "token.ip", client.ip or "?")
    method = data.get("method", "totp")
    try:
        issued = await auth.complete_second_factor(
            data.get("challenge", ""), method, data.get("code", "").strip(), client
        )
    except SecondFactorInvalid as exc:
        offered = data.get("methods", "").split(",")
        methods = [m for m in METHOD_LABELS if m in offered] or [method]
        context = {
            "next": _safe_next(data.get("next")),
            "challenge": data.get("challenge", ""),
            "methods": methods,
            "method": method,
            "method_labels": METHOD_LABELS,
            "send_labels": SEND_LABELS,
            "errors": {"code": exc.message},
        }
        return _partial(request, "_second_factor_form.html", context)
    return _signed_in(request, settings, issued, _safe_next(data.get("next")))


@router.post("/login/2fa/send", response_class=HTMLResponse)
async def send_login_code(
    request: Request, auth: AuthenticatorDep, notifier: NotifierDep
) -> HTMLResponse:
    require_same_origin(request)
    data = await _form(request)
    await limit(request, "token.ip", client_of(request).ip or "?")
    channel = Channel.WHATSAPP if data.get("channel") == "whatsapp" else Channel.SMS
    await auth.send_code(notifier, data.get("challenge", ""), channel)
    return render(request, "identity/_code_sent.html", {})


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request) -> HTMLResponse:
    return _page(request, N_("Create your workspace"), "_signup_form.html",
                 {"values": {}, "errors": {}})  # fmt: skip


@router.post("/signup", response_class=HTMLResponse)
async def signup(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> Response:
    require_same_origin(request)
    data = await _form(request)
    client = client_of(request)
    await limit(request, "signup.ip", client.ip or "?")
    errors = _signup_shape(data)
    if not errors:
        try:
            issued = await authentication.sign_up(
                session,
                settings,
                notifier,
                workspace_name=data["workspace_name"].strip(),
                workspace_slug=data["workspace_slug"].strip(),
                full_name=data["full_name"].strip(),
                email=data["email"],
                password=data["password"],
                locale=request_locale(request),
                client=client,
            )
        except ValidationFailed as exc:
            errors = dict(exc.details["fields"])
        else:
            return _signed_in(request, settings, issued, "/?welcome=signup")
    values = {k: v for k, v in data.items() if k != "password"}
    return _partial(request, "_signup_form.html", {"values": values, "errors": errors})


def _signup_shape(data: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("workspace_name", "full_name", "email", "password"):
        if not data.get(name, "").strip():
            errors[name] = N_("This field is required.")
    if not re.fullmatch(SLUG_PATTERN, data.get("workspace_slug", "").strip()):
        errors["workspace_slug"] = N_("Use 3 to 63 lower-case letters, digits and dashes.")
    return errors


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_page(request: Request, token: str = "") -> HTMLResponse:
    """A button, not an automatic GET: link scanners must not use the token up."""
    return _page(request, N_("Verify your e-mail"), "_verify_form.html",
                 {"token": token, "errors": {}})  # fmt: skip


@router.post("/verify-email", response_class=HTMLResponse)
async def verify(request: Request, session: DbSession) -> HTMLResponse:
    require_same_origin(request)
    data = await _form(request)
    try:
        await email_links.verify_email(session, data.get("token", ""))
    except InvalidToken as exc:
        return _partial(request, "_verify_form.html", {"token": "", "error": exc.message})
    return _partial(request, "_verify_form.html", {"verified": True})


@router.get("/forgot-password", response_class=HTMLResponse)
async def forgot_page(request: Request) -> HTMLResponse:
    return _page(request, N_("Reset your password"), "_email_form.html",
                 {"email": "", "errors": {}})  # fmt: skip


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot(
    request: Request, settings: SettingsDep, database: DatabaseDep, notifier: NotifierDep
) -> HTMLResponse:
    require_same_origin(request)
    data = await _form(request)
    await limit(request, "reset.ip", client_of(request).ip or "?")
    await limit(request, "reset.account", data.get("email", "").strip().lower())
    await email_links.request_password_reset(
        database, settings, notifier, data.get("email", ""), None
    )
    return _partial(request, "_email_form.html", {"sent": True})


def _password_context(action: str, token: str, **extra: Any) -> dict[str, Any]:
    return {"action": action, "token": token, "errors": {}, **extra}


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_page(request: Request, token: str = "") -> HTMLResponse:
    context = _password_context("/reset-password", token, submit_label=N_("Save the password"))
    return _page(request, N_("Choose a new password"), "_password_form.html", context)


@router.post("/reset-password", response_class=HTMLResponse)
async def reset(request: Request, session: DbSession) -> HTMLResponse:
    require_same_origin(request)
    data = await _form(request)
    token = data.get("token", "")
    context = _password_context("/reset-password", token, submit_label=N_("Save the password"))
    try:
        await email_links.reset_password(session, token, data.get("password", ""))
    except ValidationFailed as exc:
        return _partial(
            request, "_password_form.html", {**context, "errors": exc.details["fields"]}
        )
    except InvalidToken as exc:
        return _partial(request, "_password_form.html", {**context, "error": exc.message})
    done = N_("Your password is changed. Sign in with it.")
    return _partial(request, "_password_form.html", {**context, "done": done})


@router.get("/accept-invite", response_class=HTMLResponse)
async def accept_page(request: Request, token: str = "") -> HTMLResponse:
    context = _password_context(
        "/accept-invite", token, with_name=True, full_name="", submit_label=N_("Join")
    )
    return _page(request, N_("Join your team"), "_password_form.html", context)


@router.post("/accept-invite", response_class=HTMLResponse)
async def accept(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    require_same_origin(request)
    data = await _form(request)
    token = data.get("token", "")
    context = _password_context(
        "/accept-invite", token, with_name=True, full_name=data.get("full_name", ""),
        submit_label=N_("Join"),
    )  # fmt: skip
    client = client_of(request)
    await limit(request, "token.ip", client.ip or "?")
    if not data.get("full_name", "").strip():
        errors = {"full_name": N_("This field is required.")}
        return _partial(request, "_password_form.html", {**context, "errors": errors})
    try:
        user = await invites.accept(
            session, token=token, full_name=data["full_name"].strip(),
            password=data.get("password", ""),
        )  # fmt: skip
    except ValidationFailed as exc:
        return _partial(
            request, "_password_form.html", {**context, "errors": exc.details["fields"]}
        )
    except DomainError as exc:
        return _partial(request, "_password_form.html", {**context, "error": exc.message})
    issued = await sessions.sign_in(
        session, settings, user, ip=client.ip, user_agent=client.user_agent, method="invitation"
    )
    return _signed_in(request, settings, issued, "/?welcome=invite")


@router.post("/logout")
async def logout(request: Request, session: DbSession, subject: SessionsRevoker) -> Response:
    require_same_origin(request)
    if subject.session_id is not None:
        current = await repository.auth_session(session, subject.session_id)
        if current is not None:
            await sessions.revoke(session, subject, current, "logout")
    response = Response(status_code=204, headers={"HX-Redirect": "/login"})
    clear_cookies(response)
    return response


@router.get("/logout")
async def logout_page() -> RedirectResponse:
    """Signing out changes state, so it is a POST; a typed-in URL goes to the sign-in page."""
    return RedirectResponse("/login", status_code=303)


async def _sessions_table(
    request: Request, session: DbSession, subject: AuthSubject
) -> HTMLResponse:
    rows = await repository.active_sessions(session, subject.user_id, datetime.now(UTC))
    return render(request, "identity/_sessions_table.html",
                  {"sessions": rows, "current": subject.session_id,
                   "device_label": devices.device_label})  # fmt: skip


@router.get("/account/sessions", response_class=HTMLResponse)
async def sessions_page(
    request: Request, session: DbSession, subject: SessionsReader
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    rows = await repository.active_sessions(session, subject.user_id, datetime.now(UTC))
    return render(request, "identity/sessions.html",
                  {"sessions": rows, "current": subject.session_id,
                   "device_label": devices.device_label})  # fmt: skip


@router.post("/account/sessions/{session_id}/revoke", response_class=HTMLResponse)
async def revoke_session(
    request: Request, session_id: UUID, session: DbSession, subject: SessionsRevoker
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    target = await repository.auth_session(session, session_id)
    if target is not None and target.user_id == subject.user_id:
        await sessions.revoke(session, subject, target, "revoked")
    return await _sessions_table(request, session, subject)


@router.post("/account/sessions/revoke-others", response_class=HTMLResponse)
async def revoke_others(
    request: Request, session: DbSession, subject: SessionsRevoker
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    await sessions.revoke_others(session, subject)
    return await _sessions_table(request, session, subject)
