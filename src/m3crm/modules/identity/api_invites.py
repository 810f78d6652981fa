"""Invitations: `/v1/admin/users/invite…` (spec §1.4 "Invitations & Users")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import Field

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.auth import AuthSubject, DbSession, get_settings_dep, require
from m3crm.kernel.entitlements import report_limit_refusal
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
from m3crm.kernel.ids import TenantId
from m3crm.kernel.inputs import StorableModel
from m3crm.modules.identity import invites, repository, sessions
from m3crm.modules.identity.api_auth import TokenOut, client_of, limit, respond
from m3crm.modules.identity.models import Invite
from m3crm.modules.identity.one_time import InvalidToken
from m3crm.modules.identity.secrets import token_tenant
from m3crm.modules.notify.deps import NotifierDep
from m3crm.settings import Settings

router = APIRouter(
    prefix="/v1/admin/users",
    tags=["users"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)
Inviter = Annotated[AuthSubject, Depends(require("user.invite"))]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


class InviteIn(StorableModel):
    email: str = Field(min_length=3, max_length=320)
    roles: list[str] = Field(min_length=1, max_length=10)


class AcceptIn(StorableModel):
    token: str = Field(min_length=10, max_length=100)
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class InviteOut(StorableModel):
    id: UUID
    email: str
    roles: list[str]
    inviter_id: UUID
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    sent_count: int


def _out(row: Invite) -> InviteOut:
    return InviteOut(
        id=row.id,
        email=row.email,
        roles=list(row.role_codes),
        inviter_id=row.inviter_id,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
        revoked_at=row.revoked_at,
        sent_count=row.sent_count,
    )


@router.post(
    "/invite",
    response_model=InviteOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict, LimitReached),
)
async def invite_user(
    body: InviteIn,
    session: DbSession,
    subject: Inviter,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> InviteOut:
    row = await invites.invite(
        session, settings, notifier, subject, email=body.email, roles=body.roles
    )
    return _out(row)


@router.get("/invites", response_model=list[InviteOut])
async def pending_invites(session: DbSession, subject: Inviter) -> list[InviteOut]:
    return [_out(r) for r in await repository.pending_invites(session, datetime.now(UTC))]


@router.post(
    "/invites/{invite_id}/resend",
    response_model=InviteOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def resend_invite(
    invite_id: UUID,
    session: DbSession,
    subject: Inviter,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> InviteOut:
    return _out(await invites.resend(session, settings, notifier, subject, invite_id))


@router.delete(
    "/invites/{invite_id}",
    response_model=InviteOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def revoke_invite(invite_id: UUID, session: DbSession, subject: Inviter) -> InviteOut:
    return _out(await invites.revoke(session, subject, invite_id))


@router.post(
    "/accept-invite",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(InvalidToken, Conflict, LimitReached),
)
async def accept_invite(
    body: AcceptIn,
    request: Request,
    response: Response,
    session: DbSession,
    settings: SettingsDep,
) -> TokenOut:
    """Public: the invitation token is the credential. Signs the new user in."""
    client = client_of(request)
    await limit(request, "token.ip", client.ip or "?")
    try:
        user = await invites.accept(
            session, token=body.token, full_name=body.full_name, password=body.password
        )
    except LimitReached as refused:
        tenant_id = token_tenant(body.token)
        if tenant_id is not None:  # no signed-in subject: the error handler cannot report it
            actor = SystemActor(TenantId(tenant_id), None)
            await report_limit_refusal(request.app.state.database, actor, refused)
        raise
    issued = await sessions.sign_in(
        session, settings, user, ip=client.ip, user_agent=client.user_agent, method="invitation"
    )
    return respond(response, settings, issued, "cookie")
