"""The authenticated subject of a request, and the dependencies that guard routes.

`current_subject` is the only place a request's `TenantId` is made: it verifies the
token, binds the transaction to the token's tenant, and loads the user *inside* that
tenant (RLS on), refusing suspended or deactivated users and inactive tenants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, NamedTuple
from uuid import UUID

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Select,
    Uuid,
    bindparam,
    false,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.entitlements import Entitlements, load_user_entitlements
from m3crm.kernel.errors import NotAuthenticated, PermissionDenied
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.permission_codes import SELF_SERVICE
from m3crm.kernel.permissions import PermissionCodesQuery, ensure_known, permission_codes_query
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.kernel.tenancy.models import Tenant, TenantStatus, User, UserStatus
from m3crm.kernel.tokens import verify_access_token
from m3crm.settings import Settings

ACCESS_COOKIE = "m3crm_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require_same_origin(request: Request) -> None:
    """CSRF guard for requests a browser sends with our cookies: they must carry
    `HX-Request: true` (every page action posts through htmx) or `X-Requested-With`
    (scripts), headers a cross-site form cannot send (they need a CORS preflight we never
    grant). The one check used by cookie writes, sign-in forms and cookie refresh."""
    if request.headers.get("hx-request") != "true" and not request.headers.get("x-requested-with"):
        raise PermissionDenied(N_("This action must come from the application's pages."))


@dataclass(frozen=True, slots=True)
class UserCard:
    """What pages show of the signed-in user, copied when the subject is loaded: it stays
    readable after the request's transaction rolled back (error pages), when the ORM
    `user` is expired."""

    id: UUID
    email: str
    full_name: str
    locale: str


@dataclass(frozen=True, slots=True)
class AuthSubject:
    """A user proven to belong to `tenant_id`, with the permission codes they hold now.

    `tenant` is the request's tenant row; holding it keeps it in the session's identity
    map (which references objects weakly), so `session.get(Tenant, …)` costs no query."""

    tenant_id: TenantId
    user: User
    tenant: Tenant
    permissions: frozenset[str]
    card: UserCard
    session_id: UUID | None = None

    @property
    def user_id(self) -> UUID:
        """From the card: readable after the request's transaction ended (error handlers)."""
        return self.card.id

    def can(self, code: str) -> bool:
        return code in self.permissions


# Dependencies are coroutines even when they do not await: FastAPI runs a plain `def`
# dependency in the thread pool, a thread hop per request for a dictionary lookup.


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(
    db: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed after the handler succeeds (before the
    response is sent), rolled back on any error. Services flush, never commit."""
    async with db.sessions() as session, session.begin():
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="Access token (JWT)")


SessionLiveQuery = Callable[[BindParameter[UUID], BindParameter[datetime]], ColumnElement[bool]]
"""Given the bound session id and the current time, a SQL boolean: that session still
lives (not revoked, not past its absolute expiry). Registered by the identity module."""


def _no_sessions(
    session_id: BindParameter[UUID], now: BindParameter[datetime]
) -> ColumnElement[bool]:
    return false()


_session_live_query: SessionLiveQuery = _no_sessions


def register_session_check(query: SessionLiveQuery) -> None:
    """The identity module tells the kernel how to see whether a token's session lives."""
    global _session_live_query
    _session_live_query = query


_TENANT_ID: BindParameter[UUID] = bindparam("tenant_id", type_=Uuid)
_USER_ID: BindParameter[UUID] = bindparam("user_id", type_=Uuid)
_SESSION_ID: BindParameter[UUID] = bindparam("session_id", type_=Uuid)
_NOW: BindParameter[datetime] = bindparam("now", type_=DateTime(timezone=True))


@lru_cache(maxsize=1)
def _subject_statement(
    codes: PermissionCodesQuery, session_live: SessionLiveQuery
) -> Select[User, Tenant, Any, bool]:
    """The user, their tenant, their permission codes and whether the token's session
    lives, in one statement built once per registered pair of queries (statement
    construction is not free per request). The `Tenant` entity is selected whole so
    that `AuthSubject.tenant` is a real row. A token without a session binds
    `session_id` NULL, and its liveness column is then ignored."""
    return (
        select(User, Tenant, codes(_TENANT_ID, _USER_ID), session_live(_SESSION_ID, _NOW))
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.tenant_id == _TENANT_ID, User.id == _USER_ID)
    )


class _Loaded(NamedTuple):
    subject: AuthSubject | None
    session_live: bool


async def _load(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, session_id: UUID | None
) -> _Loaded:
    """Bind the transaction to `tenant_id`; load an *active* user of an *active* tenant
    with their permissions (`subject` None when any of that does not hold) and, for a
    token tied to a session, whether that session still lives.

    Two round trips: the binding must be its own statement, since row-level security
    reads `app.tenant_id` and nothing orders a `set_config` before the policy checks of
    the same statement."""
    await bind_tenant(session, tenant_id, user_id)
    params = {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "session_id": session_id,
        "now": datetime.now(UTC),
    }
    statement = _subject_statement(permission_codes_query(), _session_live_query)
    row = (await session.execute(statement, params)).one_or_none()
    if row is None:
        return _Loaded(None, False)
    user, tenant, codes, live = row
    if user.status != UserStatus.ACTIVE or tenant.status != TenantStatus.ACTIVE:
        return _Loaded(None, False)
    subject = AuthSubject(
        tenant_id=TenantId(tenant_id),
        user=user,
        tenant=tenant,
        permissions=frozenset(codes or ()),
        card=UserCard(id=user.id, email=user.email, full_name=user.full_name, locale=user.locale),
    )
    if session_id is None:
        return _Loaded(subject, True)
    return _Loaded(replace(subject, session_id=session_id), bool(live))


PageLoader = Callable[[AsyncSession, Request, "AuthSubject"], Awaitable[None]]
_page_loaders: list[PageLoader] = []


def register_page_loader(loader: PageLoader) -> None:
    """The web shell asks to load what a full page needs (preferences, plan features)
    once the subject of a browser page request is known (idempotent)."""
    if loader not in _page_loaders:
        _page_loaders.append(loader)


def _is_page_request(request: Request, bearer: bool) -> bool:
    """A browser navigating to a page: cookie auth, GET, not an htmx partial."""
    return not bearer and request.method == "GET" and request.headers.get("hx-request") != "true"


async def _prepare_page(session: AsyncSession, request: Request, subject: AuthSubject) -> None:
    for loader in _page_loaders:
        await loader(session, request, subject)


async def load_subject(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> AuthSubject | None:
    """Bind the transaction to `tenant_id` and load an *active* user of an *active*
    tenant with their permissions; `None` when any of that does not hold."""
    return (await _load(session, tenant_id, user_id, None)).subject


async def current_subject(
    request: Request,
    session: DbSession,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthSubject:
    token = credentials.credentials if credentials else request.cookies.get(ACCESS_COOKIE)
    if not token:
        raise NotAuthenticated()
    if credentials is None and request.method not in SAFE_METHODS:
        require_same_origin(request)
    claims = verify_access_token(settings, token)
    subject, live = await _load(session, claims.tenant_id, claims.user_id, claims.session_id)
    if subject is None:
        raise NotAuthenticated(N_("This account cannot sign in."))
    if not live:
        raise NotAuthenticated(N_("This session has ended; sign in again."))
    limiter: RateLimiter = request.app.state.limiter
    await limiter.hit_subject(str(subject.tenant_id), str(subject.user_id))
    structlog.contextvars.bind_contextvars(
        tenant_id=str(subject.tenant_id), user_id=str(subject.user_id)
    )
    request.state.subject = subject
    if _is_page_request(request, bearer=credentials is not None):
        await _prepare_page(session, request, subject)
    return subject


Subject = Annotated[AuthSubject, Depends(current_subject)]


async def optional_subject(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthSubject | None:
    """For public pages that greet a signed-in visitor: the subject, or None (never 401).
    Without a token it touches no database (public pages work before the database)."""
    token = credentials.credentials if credentials else request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    try:
        claims = verify_access_token(settings, token)
    except NotAuthenticated:
        return None
    async with (await get_database(request)).transaction() as session:
        subject, live = await _load(session, claims.tenant_id, claims.user_id, claims.session_id)
        if subject is not None and live and _is_page_request(request, credentials is not None):
            await _prepare_page(session, request, subject)
    if subject is None or not live:
        return None
    request.state.subject = subject
    return subject


OptionalSubject = Annotated[AuthSubject | None, Depends(optional_subject)]


class EmailUnverified(PermissionDenied):
    code = "AUTH_EMAIL_UNVERIFIED"
    default_message = N_("Verify your e-mail address first; we sent you a link.")


def ensure_verified_for(subject: AuthSubject, code: str) -> None:
    """403 `AUTH_EMAIL_UNVERIFIED` when `code` is privileged (not self-service) and the
    subject's e-mail is not verified. For checks made in a handler (a permission needed
    only for some targets); `require` applies it to every route it guards."""
    if not subject.user.is_verified and code not in SELF_SERVICE:
        raise EmailUnverified(details={"permission": code})


def require(code: str) -> Callable[[AuthSubject], Awaitable[AuthSubject]]:
    """Dependency: the subject must hold `code` (403 `PERMISSION_DENIED` otherwise), and
    unless `code` is self-service, have a verified e-mail (403 `AUTH_EMAIL_UNVERIFIED`)."""
    ensure_known(code)

    async def dependency(subject: Subject) -> AuthSubject:
        if not subject.can(code):
            raise PermissionDenied(details={"permission": code})
        ensure_verified_for(subject, code)
        return subject

    dependency.__name__ = f"require_{code.replace('.', '_')}"
    return dependency


def require_any(*codes: str) -> Callable[[AuthSubject], Awaitable[AuthSubject]]:
    """Dependency for a screen serving several rights (each part of it checks its own):
    the subject must hold at least one of `codes` (403 naming them all otherwise), with a
    verified e-mail as `require` asks for the code they hold."""
    for code in codes:
        ensure_known(code)

    async def dependency(subject: Subject) -> AuthSubject:
        held = [code for code in codes if subject.can(code)]
        if not held:
            raise PermissionDenied(details={"permission": " | ".join(codes)})
        ensure_verified_for(subject, held[0])
        return subject

    dependency.__name__ = "require_any_" + "_".join(c.replace(".", "_") for c in codes)
    return dependency


async def entitlements_of(session: AsyncSession, subject: AuthSubject) -> Entitlements:
    """The person's entitlements: plan < tenant < group < user overrides (read on every
    call, so a changed override or group membership counts at once)."""
    return await load_user_entitlements(session, subject.tenant_id, subject.user_id)


def require_feature(feature: str) -> Callable[[AuthSubject, AsyncSession], Awaitable[None]]:
    """Dependency: the user's entitlements (plan and overrides) must include `feature`
    (402 `PLAN_REQUIRED`)."""

    async def dependency(subject: Subject, session: DbSession) -> None:
        entitlements = await entitlements_of(session, subject)
        entitlements.require_feature(feature)

    dependency.__name__ = f"require_feature_{feature.replace('.', '_')}"
    return dependency


def require_limit(
    key: str, *, adding: int = 1
) -> Callable[[AuthSubject, AsyncSession], Awaitable[None]]:
    """Dependency: `usage + adding` must stay within the user's limit (plan and overrides;
    422 `LIMIT_REACHED`)."""

    async def dependency(subject: Subject, session: DbSession) -> None:
        entitlements = await entitlements_of(session, subject)
        entitlements.require_limit(key, adding=adding)

    dependency.__name__ = f"require_limit_{key.replace('.', '_')}"
    return dependency
