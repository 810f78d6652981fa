"""User administration API: `/v1/admin/users` list, read, edit, deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from m3crm.kernel.auth import AuthSubject, DbSession, require
from m3crm.kernel.errors import (
    Conflict,
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
from m3crm.modules.identity.users import UserChanges, UserWithRoles, user_admin
from m3crm.modules.identity.work_codes import WORK_CODE_FIELDS, WORK_CODE_PATTERN

UserReader = Annotated[AuthSubject, Depends(require("user.read"))]
UserEditor = Annotated[AuthSubject, Depends(require("user.update"))]
UserRemover = Annotated[AuthSubject, Depends(require("user.delete"))]

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


@router.get("", response_model=AdminUserPage)
async def list_users(
    session: DbSession,
    subject: UserReader,
    status: UserStatus | None = None,
    role: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_]+$")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[^\x00-\x1f]+$",
            description="Name or e-mail contains (case-insensitive).",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> AdminUserPage:
    page = await user_admin.list_users(
        session, subject, PageRequest(limit=limit, cursor=cursor), status=status, role=role, q=q
    )
    return AdminUserPage(
        items=[AdminUserOut.of(u) for u in page.items], next_cursor=page.next_cursor
    )


@router.get("/{user_id}", response_model=AdminUserOut, responses=error_responses(NotFound))
async def get_user(user_id: UUID, session: DbSession, subject: UserReader) -> AdminUserOut:
    return AdminUserOut.of(await user_admin.get(session, subject, user_id))


@router.patch(
    "/{user_id}",
    response_model=AdminUserOut,
    responses=error_responses(NotFound, Conflict, LimitReached),
)
async def update_user(
    user_id: UUID, body: AdminUserPatch, session: DbSession, subject: UserEditor
) -> AdminUserOut:
    """Audited as `user.updated` (profile) and `user.suspended` / `user.deactivated` /
    `user.reinstated` (status). Suspending or deactivating ends the user's sessions."""
    changes = UserChanges(
        full_name=body.full_name,
        locale=body.locale,
        status=body.status,
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
