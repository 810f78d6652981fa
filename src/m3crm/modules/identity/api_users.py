"""User administration API: `/v1/admin/users` list, create, read, edit, lifecycle
(suspend, deactivate, reinstate, force logout, reset password), and `/v1/admin/seats`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from m3crm.kernel.auth import AuthSubject, DbSession, get_settings_dep, require
from m3crm.kernel.errors import (
    Conflict,
    InvalidTransition,
    LimitReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.inputs import StorableModel
from m3crm.kernel.pagination import CURSOR_PATTERN, MAX_LIMIT, PageRequest
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.identity import seats, user_creation
from m3crm.modules.identity.user_creation import NewUser
from m3crm.modules.identity.users import PeopleQuery, UserChanges, UserWithRoles, user_admin
from m3crm.modules.identity.work_codes import WORK_CODE_FIELDS, WORK_CODE_PATTERN
from m3crm.modules.notify.deps import NotifierDep
from m3crm.settings import Settings

UserReader = Annotated[AuthSubject, Depends(require("user.read"))]
UserCreator = Annotated[AuthSubject, Depends(require("user.manage"))]
UserEditor = Annotated[AuthSubject, Depends(require("user.update"))]
UserRemover = Annotated[AuthSubject, Depends(require("user.delete"))]
Suspender = Annotated[AuthSubject, Depends(require("user.suspend"))]
Deactivator = Annotated[AuthSubject, Depends(require("user.deactivate"))]
Reinstater = Annotated[AuthSubject, Depends(require("user.reinstate"))]
LogoutForcer = Annotated[AuthSubject, Depends(require("user.forceLogout"))]
SeatsViewer = Annotated[AuthSubject, Depends(require("seats.view"))]

router = APIRouter(
    prefix="/v1/admin/users",
    tags=["users"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


class AdminUserOut(BaseModel):
    id: UUID
    email: str
    full_name: str
    locale: str
    status: UserStatus
    is_verified: bool
    last_login_at: datetime | None
    created_at: datetime
    roles: list[str]

    @classmethod
    def of(cls, found: UserWithRoles) -> AdminUserOut:
        u = found.user
        return cls(
            id=u.id,
            email=u.email,
            full_name=u.full_name,
            locale=u.locale,
            status=u.status,
            is_verified=u.is_verified,
            last_login_at=u.last_login_at,
            created_at=u.created_at,
            roles=found.roles,
        )


class AdminUserPage(BaseModel):
    items: list[AdminUserOut]
    next_cursor: str | None


class AdminUserIn(StorableModel):
    """A user created by an administrator. `roles`: at least one, as for an invitation
    (not `super_admin`; each a role of the tenant). `locale`: omitted, the workspace's.
    `job_title_code` / `department_code`: codes of the tenant's dictionaries."""

    email: str = Field(min_length=3, max_length=320)
    full_name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=10)
    locale: Literal["en", "ar"] | None = None
    job_title_code: str | None = Field(default=None, pattern=WORK_CODE_PATTERN)
    department_code: str | None = Field(default=None, pattern=WORK_CODE_PATTERN)

    def new_user(self) -> NewUser:
        return NewUser(
            email=self.email,
            full_name=self.full_name,
            roles=self.roles,
            locale=self.locale,
            work_codes={f: getattr(self, f) for f in WORK_CODE_FIELDS},
        )


class AdminUserPatch(StorableModel):
    """Every field optional. `status` moves through the allowed transitions only:
    active→suspended, suspended→active, active/suspended→deactivated, deactivated→active.
    `job_title_code` / `department_code`: a code of the tenant's dictionaries (422 when
    unknown or inactive); `null` clears it."""

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    locale: Literal["en", "ar"] | None = None
    status: UserStatus | None = None
    job_title_code: str | None = Field(default=None, pattern=WORK_CODE_PATTERN)
    department_code: str | None = Field(default=None, pattern=WORK_CODE_PATTERN)
    reassign_to: UUID | None = Field(
        default=None,
        description="Suspend / deactivate: the active user who takes over the user's records "
        "(required to deactivate a user who owns records).",
    )


class HandOverIn(StorableModel):
    reassign_to: UUID | None = None


class SessionsEndedOut(BaseModel):
    sessions_ended: int


class SeatsOut(BaseModel):
    used: int
    allowed: int
    breakdown: dict[str, dict[str, int]]


@router.get("", response_model=AdminUserPage)
async def list_users(
    session: DbSession,
    subject: UserReader,
    status: UserStatus | None = None,
    role: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_]+$")] = None,
    group: Annotated[UUID | None, Query(description="Members of this group.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[^\x00-\x1f]+$",
            description="Name or e-mail contains (case-insensitive).",
        ),
    ] = None,
    two_factor: Annotated[
        bool | None, Query(description="Some second factor on (TOTP, SMS or WhatsApp).")
    ] = None,
    phone_verified: bool | None = None,
    signed_in_after: Annotated[
        datetime | None, Query(description="Last sign-in at or after.")
    ] = None,
    not_signed_in_since: Annotated[
        datetime | None,
        Query(description="No sign-in since this time (never signed in included)."),
    ] = None,
    never_signed_in: Annotated[bool, Query(description="Only people who never signed in.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> AdminUserPage:
    """Newest first, with seek pagination; every filter given must hold."""
    query = PeopleQuery(
        status=status,
        role=role,
        group_id=group,
        q=q,
        two_factor=two_factor,
        phone_verified=phone_verified,
        signed_in_after=signed_in_after,
        not_signed_in_since=not_signed_in_since,
        never_signed_in=never_signed_in,
    )
    page = await user_admin.list_users(
        session, subject, PageRequest(limit=limit, cursor=cursor), query
    )
    return AdminUserPage(
        items=[AdminUserOut.of(u) for u in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    response_model=AdminUserOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict, LimitReached),
)
async def create_user(
    body: AdminUserIn,
    session: DbSession,
    subject: UserCreator,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    notifier: NotifierDep,
) -> AdminUserOut:
    """Creates an active user without a password and e-mails them a link to choose one
    (valid 7 days; using it verifies the e-mail). Takes a seat (422 `LIMIT_REACHED`,
    reported to the admins); 409 when the e-mail is a user's or has a pending invitation;
    403 when a role grants permissions the caller lacks. Audited `user.created`."""
    created = await user_creation.create(session, settings, notifier, subject, body.new_user())
    return AdminUserOut.of(created)


@router.get("/{user_id}", response_model=AdminUserOut, responses=error_responses(NotFound))
async def get_user(user_id: UUID, session: DbSession, subject: UserReader) -> AdminUserOut:
    return AdminUserOut.of(await user_admin.get(session, subject, user_id))


@router.patch(
    "/{user_id}",
    response_model=AdminUserOut,
    responses=error_responses(NotFound, Conflict, LimitReached, PermissionDenied),
)
async def update_user(
    user_id: UUID, body: AdminUserPatch, session: DbSession, subject: UserEditor
) -> AdminUserOut:
    """Audited as `user.updated` (profile) and `user.suspended` / `user.deactivated` /
    `user.reinstated` (status). A status change also needs the permission of its
    endpoint (`user.suspend` / `user.deactivate` / `user.reinstate`, else 403) and does
    exactly what that endpoint does (sessions ended, records handed over, notices)."""
    changes = UserChanges(
        full_name=body.full_name,
        locale=body.locale,
        status=body.status,
        reassign_to=body.reassign_to,
        work_codes={f: getattr(body, f) for f in WORK_CODE_FIELDS if f in body.model_fields_set},
    )
    return AdminUserOut.of(await user_admin.update(session, subject, user_id, changes))


@router.delete(
    "/{user_id}",
    response_model=AdminUserOut,
    responses=error_responses(NotFound, Conflict),
)
async def deactivate_user(user_id: UUID, session: DbSession, subject: UserRemover) -> AdminUserOut:
    """Deactivates the user (never deletes: their history stays in the audit trail)."""
    return AdminUserOut.of(await user_admin.deactivate(session, subject, user_id))


_LIFECYCLE = error_responses(NotFound, Conflict, InvalidTransition)


@router.post("/{user_id}/suspend", response_model=AdminUserOut, responses=_LIFECYCLE)
async def suspend_user(
    user_id: UUID, session: DbSession, subject: Suspender, body: HandOverIn | None = None
) -> AdminUserOut:
    """Login blocked, sessions ended at once; optionally hands the user's records over
    (`reassign_to`). Audited `user.suspended`."""
    target = body.reassign_to if body else None
    return AdminUserOut.of(
        await user_admin.transition(session, subject, user_id, UserStatus.SUSPENDED, target)
    )


@router.post("/{user_id}/deactivate", response_model=AdminUserOut, responses=_LIFECYCLE)
async def deactivate_user_now(
    user_id: UUID, session: DbSession, subject: Deactivator, body: HandOverIn | None = None
) -> AdminUserOut:
    """Archived (kept for audit references), sessions ended at once. A user who owns
    records needs `reassign_to` (409 `CONFLICT` with `details.owned` otherwise)."""
    target = body.reassign_to if body else None
    return AdminUserOut.of(
        await user_admin.transition(session, subject, user_id, UserStatus.DEACTIVATED, target)
    )


@router.post(
    "/{user_id}/reinstate",
    response_model=AdminUserOut,
    responses=error_responses(NotFound, Conflict, InvalidTransition, LimitReached),
)
async def reinstate_user(user_id: UUID, session: DbSession, subject: Reinstater) -> AdminUserOut:
    """Back to active; a deactivated user needs a free seat (422 `LIMIT_REACHED`)."""
    return AdminUserOut.of(
        await user_admin.transition(session, subject, user_id, UserStatus.ACTIVE)
    )


@router.post(
    "/{user_id}/force-logout",
    response_model=SessionsEndedOut,
    responses=error_responses(NotFound),
)
async def force_logout(
    user_id: UUID, session: DbSession, subject: LogoutForcer
) -> SessionsEndedOut:
    """Ends every session of the user; audited `user.force_logout`."""
    return SessionsEndedOut(sessions_ended=await user_admin.force_logout(session, subject, user_id))


@router.post(
    "/{user_id}/reset-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(NotFound, InvalidTransition),
)
async def reset_user_password(
    user_id: UUID,
    session: DbSession,
    subject: UserEditor,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    notifier: NotifierDep,
) -> None:
    """E-mails the user a password-reset link (the forgotten-password flow)."""
    await user_admin.reset_password(session, subject, user_id, settings, notifier)


seats_router = APIRouter(
    prefix="/v1/admin/seats",
    tags=["users"],
    responses=error_responses(NotAuthenticated, PermissionDenied),
)


@seats_router.get("", response_model=SeatsOut)
async def seat_usage(session: DbSession, subject: SeatsViewer) -> SeatsOut:
    """Seats used / allowed (`users.max`), and seat holders by role and group. A user whose
    only role is `viewer` holds no seat (DECISIONS §12.2)."""
    found = await seats.usage(session, subject.tenant_id)
    return SeatsOut(
        used=found.used,
        allowed=found.allowed,
        breakdown={"by_role": found.by_role, "by_group": found.by_group},
    )
