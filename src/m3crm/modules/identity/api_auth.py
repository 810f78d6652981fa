"""`/v1/auth`: sign-up, sign-in with the second-factor step, refresh, sign-out, e-mail
verification, password reset, sessions (spec §1.4).

Browsers get the refresh token in an HttpOnly, SameSite=Strict cookie scoped to
`/v1/auth` (and the access token in an HttpOnly cookie for the pages); native clients ask
for `refresh_via: "body"` and keep the refresh token themselves. A refresh or logout
authenticated by the cookie must carry `X-Requested-With` or `HX-Request`, headers a
cross-site form cannot send (CSRF). Every endpoint taking a credential instead of a
session has its own per-IP limit (`limit`), those naming an account a per-account one
too; signed-in ones count against the per-user limit every signed-in request has.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from limits import RateLimitItem, parse
from pydantic import BaseModel, ConfigDict, Field

from m3crm.kernel.auth import (
    ACCESS_COOKIE,
    AuthSubject,
    DbSession,
    EmailUnverified,
    Subject,
    ensure_verified_for,
    get_database,
    get_settings_dep,
    require,
    require_same_origin,
)
from m3crm.kernel.crypto import SecretBox
from m3crm.kernel.db.session import Database
from m3crm.kernel.errors import (
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    RateLimited,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.i18n import N_
from m3crm.kernel.inputs import StorableModel
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.modules.identity import (
    authentication,
    devices,
    email_links,
    repository,
    sessions,
    twofa,
)
from m3crm.modules.identity.authentication import (
    Authenticator,
    Client,
    SecondFactorInvalid,
    SecondFactorRequired,
    WorkspaceRequired,
)
from m3crm.modules.identity.one_time import InvalidToken
from m3crm.modules.identity.sessions import Issued, TokenReused
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.models import Channel
from m3crm.settings import Settings

router = APIRouter(
    prefix="/v1/auth",
    tags=["auth"],
    responses=error_responses(NotAuthenticated, ValidationFailed, RateLimited),
)

REFRESH_COOKIE = "m3crm_refresh"
REFRESH_PATH = "/v1/auth"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$"
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]


class CredentialModel(BaseModel):
    """A body of credentials only: nothing in it is stored as text (passwords and tokens
    are hashed, e-mails are looked up after validation), so any string is acceptable and
    junk is simply a credential that does not match (401), never a 422 or a 500."""

    model_config = ConfigDict(extra="forbid")


class SignUpIn(StorableModel):
    workspace_name: str = Field(min_length=2, max_length=200)
    workspace_slug: str = Field(min_length=3, max_length=63, pattern=SLUG_PATTERN)
    full_name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=200)
    locale: Literal["en", "ar"] = "en"
    refresh_via: Literal["cookie", "body"] = "cookie"


class LoginIn(CredentialModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=200)
    workspace: str | None = Field(default=None, min_length=3, max_length=63, pattern=SLUG_PATTERN)
    refresh_via: Literal["cookie", "body"] = "cookie"


class SecondFactorIn(CredentialModel):
    challenge: str = Field(min_length=10, max_length=100)
    method: Literal["totp", "backup", "sms", "whatsapp"]
    code: str = Field(min_length=4, max_length=20)
    refresh_via: Literal["cookie", "body"] = "cookie"


class SendCodeIn(CredentialModel):
    challenge: str = Field(min_length=10, max_length=100)
    channel: Literal["sms", "whatsapp"]


class RefreshIn(CredentialModel):
    refresh_token: str | None = Field(default=None, min_length=10, max_length=100)
    refresh_via: Literal["cookie", "body"] = "cookie"


class TokenIn(CredentialModel):
    token: str = Field(min_length=10, max_length=100)


class ForgotIn(CredentialModel):
    email: str = Field(min_length=1, max_length=320)
    workspace: str | None = Field(default=None, min_length=3, max_length=63, pattern=SLUG_PATTERN)


class ResetIn(CredentialModel):
    token: str = Field(min_length=10, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(StorableModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type)
    expires_in: int
    session_id: UUID
    user_id: UUID
    tenant_id: UUID
    refresh_token: str | None = None


class VerifiedOut(StorableModel):
    user_id: UUID
    is_verified: bool


class SessionOut(StorableModel):
    id: UUID
    device: str | None = Field(
        description='English label derived from `user_agent` ("Chrome on Windows"); '
        "null when the agent names nothing recognisable."
    )
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool


class RevokedOut(StorableModel):
    revoked: int


def client_of(request: Request) -> Client:
    return Client(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


@lru_cache(maxsize=64)
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


async def limit(request: Request, name: str, key: str) -> None:
    """Count one attempt against `settings.auth_rate_limits[name]` (429 when over)."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.limiter
    await limiter.hit(_item(settings.auth_rate_limits[name]), f"auth.{name}", key)


async def authenticator(request: Request) -> Authenticator:
    settings: Settings = request.app.state.settings
    box = SecretBox(settings.secrets_key.get_secret_value())

    async def check(session: DbSession, user_id: UUID, method: str, code: str) -> bool:
        if method == "totp":
            return await twofa.verify_totp(session, box, user_id, code)
        if method == "backup":
            return await twofa.consume_backup_code(session, box, user_id, code)
        return False

    async def throttle_code_sends(user_id: UUID) -> None:
        await limit(request, "login_code.account", str(user_id))

    return Authenticator(
        request.app.state.database,
        settings,
        twofa.second_factor_methods,
        check,
        throttle_code_sends,
    )


AuthenticatorDep = Annotated[Authenticator, Depends(authenticator)]


def respond(response: Response, settings: Settings, issued: Issued, refresh_via: str) -> TokenOut:
    """Set the cookies (browser) or return the refresh token (native client)."""
    response.set_cookie(
        ACCESS_COOKIE,
        issued.access_token,
        max_age=issued.expires_in,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    body = TokenOut(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        session_id=issued.session_id,
        user_id=issued.user_id,
        tenant_id=issued.tenant_id,
    )
    if refresh_via == "body":
        body.refresh_token = issued.refresh_token
    else:
        response.set_cookie(
            REFRESH_COOKIE,
            issued.refresh_token,
            max_age=settings.refresh_token_days * 86400,
            httponly=True,
            secure=settings.cookie_secure,
            samesite="strict",
            path=REFRESH_PATH,
        )
    return body


def clear_cookies(response: Response) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH)


@router.post(
    "/register-super-admin",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
)
async def register_super_admin(
    body: SignUpIn,
    request: Request,
    response: Response,
    session: DbSession,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> TokenOut:
    """A new workspace on the free plan with you as its super admin; a verification
    e-mail is sent, and privileged actions wait until the address is verified."""
    client = client_of(request)
    await limit(request, "signup.ip", client.ip or "?")
    issued = await authentication.sign_up(
        session,
        settings,
        notifier,
        workspace_name=body.workspace_name,
        workspace_slug=body.workspace_slug,
        full_name=body.full_name,
        email=body.email,
        password=body.password,
        locale=body.locale,
        client=client,
    )
    return respond(response, settings, issued, body.refresh_via)


@router.post(
    "/login",
    response_model=TokenOut,
    responses=error_responses(SecondFactorRequired, WorkspaceRequired),
)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    settings: SettingsDep,
    auth: AuthenticatorDep,
) -> TokenOut:
    client = client_of(request)
    await limit(request, "login.ip", client.ip or "?")
    await limit(request, "login.account", body.email.strip().lower())
    issued = await auth.login(body.email, body.password, body.workspace, client)
    return respond(response, settings, issued, body.refresh_via)


@router.post(
    "/login/2fa",
    response_model=TokenOut,
    responses=error_responses(SecondFactorInvalid),
)
async def login_second_factor(
    body: SecondFactorIn,
    request: Request,
    response: Response,
    settings: SettingsDep,
    auth: AuthenticatorDep,
) -> TokenOut:
    client = client_of(request)
    await limit(request, "token.ip", client.ip or "?")
    issued = await auth.complete_second_factor(body.challenge, body.method, body.code, client)
    return respond(response, settings, issued, body.refresh_via)


@router.post(
    "/login/2fa/send",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(SecondFactorInvalid, PlanRequired),
)
async def send_login_code(
    body: SendCodeIn, request: Request, auth: AuthenticatorDep, notifier: NotifierDep
) -> None:
    await limit(request, "token.ip", client_of(request).ip or "?")
    await auth.send_code(notifier, body.challenge, Channel(body.channel))


@router.post(
    "/refresh", response_model=TokenOut, responses=error_responses(TokenReused, PermissionDenied)
)
async def refresh(
    body: RefreshIn,
    request: Request,
    response: Response,
    settings: SettingsDep,
    database: DatabaseDep,
) -> TokenOut:
    await limit(request, "refresh.ip", client_of(request).ip or "?")
    token = body.refresh_token
    if token is None:
        token = request.cookies.get(REFRESH_COOKIE)
        if token is not None:
            require_same_origin(request)
    if token is None:
        raise NotAuthenticated(N_("Sign in again."))
    try:
        issued = await sessions.refresh(database, settings, token)
    except TokenReused:
        clear_cookies(response)
        raise
    return respond(response, settings, issued, body.refresh_via)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request, response: Response, session: DbSession, subject: Subject
) -> None:
    """End this session (the refresh token dies with it) and clear the cookies."""
    if subject.session_id is not None:
        current = await repository.auth_session(session, subject.session_id)
        if current is not None:
            await sessions.revoke(session, subject, current, "logout")
    clear_cookies(response)


@router.post("/verify-email", response_model=VerifiedOut, responses=error_responses(InvalidToken))
async def verify_email(body: TokenIn, request: Request, session: DbSession) -> VerifiedOut:
    await limit(request, "token.ip", client_of(request).ip or "?")
    user = await email_links.verify_email(session, body.token)
    return VerifiedOut(user_id=user.id, is_verified=user.is_verified)


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(
    request: Request,
    session: DbSession,
    subject: Subject,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> None:
    await limit(request, "reset.account", str(subject.user_id))
    if not subject.user.is_verified:
        await email_links.send_verification(session, settings, notifier, subject.user)


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(
    body: ForgotIn,
    request: Request,
    settings: SettingsDep,
    database: DatabaseDep,
    notifier: NotifierDep,
) -> None:
    """Always 202: whether the e-mail exists is never revealed."""
    await limit(request, "reset.ip", client_of(request).ip or "?")
    await limit(request, "reset.account", body.email.strip().lower())
    await email_links.request_password_reset(
        database, settings, notifier, body.email, body.workspace
    )


@router.post(
    "/reset-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(InvalidToken),
)
async def reset_password(body: ResetIn, request: Request, session: DbSession) -> None:
    await limit(request, "token.ip", client_of(request).ip or "?")
    await email_links.reset_password(session, body.token, body.password)


SessionsReader = Annotated[AuthSubject, Depends(require("session.read.self"))]
SessionsRevoker = Annotated[AuthSubject, Depends(require("session.revoke.self"))]


@router.get("/sessions", response_model=list[SessionOut])
async def list_sessions(session: DbSession, subject: SessionsReader) -> list[SessionOut]:
    rows = await repository.active_sessions(session, subject.user_id, datetime.now(UTC))
    return [
        SessionOut(
            id=r.id,
            device=devices.device_label(r.user_agent),
            user_agent=r.user_agent,
            ip=r.ip,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            expires_at=r.expires_at,
            current=r.id == subject.session_id,
        )
        for r in rows
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(NotFound, EmailUnverified),
)
async def revoke_session(session_id: UUID, session: DbSession, subject: SessionsRevoker) -> None:
    """Your own session, or anyone's in the organisation with `session.revoke.tenant` and
    a verified e-mail (403 `AUTH_EMAIL_UNVERIFIED`, as every privileged action). Without
    the permission someone else's session is a 404, like a missing one."""
    target = await repository.auth_session(session, session_id)
    if target is None or (
        target.user_id != subject.user_id and not subject.can("session.revoke.tenant")
    ):
        raise NotFound()
    if target.user_id != subject.user_id:
        ensure_verified_for(subject, "session.revoke.tenant")
    await sessions.revoke(session, subject, target, "revoked")


@router.post("/sessions/revoke-others", response_model=RevokedOut)
async def revoke_other_sessions(session: DbSession, subject: SessionsRevoker) -> RevokedOut:
    return RevokedOut(revoked=await sessions.revoke_others(session, subject))
