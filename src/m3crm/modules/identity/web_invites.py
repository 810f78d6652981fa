"""Invitations on the People screen (§12.4): invite someone with roles, and the pending
invitations with their bulk actions (resend a fresh link, revoke). Same services as
`/v1/admin/users/invite…`; permission `user.invite`.

A bulk action is all or nothing: the first refusal (an invitation accepted or revoked
meanwhile, another tenant's id) rolls every change of the request back and is shown.
A refused invitation for want of a seat is reported to the admins as the API reports it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.entitlements import report_limit_refusal
from m3crm.kernel.errors import (
    Conflict,
    DomainError,
    LimitReached,
    PermissionDenied,
    ValidationFailed,
)
from m3crm.kernel.i18n import N_
from m3crm.modules.access.service import access
from m3crm.modules.identity import invites, repository
from m3crm.modules.identity.api_invites import Inviter, SettingsDep
from m3crm.modules.notify.deps import NotifierDep
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

PANEL_ROWS = 200
SEATS_FULL = N_("Every seat is taken: free one or raise the plan's limit, then invite again.")


async def _context(
    session: DbSession,
    subject: AuthSubject,
    *,
    error: str | None = None,
    fields: dict[str, str] | None = None,
    done: str | None = None,
) -> dict[str, Any]:
    roles = [
        role
        for role, _ in await access.list_roles(session, subject)
        if role.code not in invites.INVITABLE_ROLES_EXCLUDED
    ]
    return {
        "pending": await repository.open_invites(session, limit=PANEL_ROWS),
        "now": datetime.now(UTC),
        "invite_roles": roles,
        "error": error,
        "fields": fields or {},
        "done": done,
    }


def _partial(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, "identity/_invites.html", context, status_code=status_code)


@router.get("/admin/users/invites", response_class=HTMLResponse)
async def invites_panel(request: Request, session: DbSession, subject: Inviter) -> HTMLResponse:
    """HTMX: the panel the People page loads for those who may invite."""
    return _partial(request, await _context(session, subject))


@router.post("/admin/users/invites", response_class=HTMLResponse)
async def invite_person(
    request: Request,
    session: DbSession,
    subject: Inviter,
    settings: SettingsDep,
    notifier: NotifierDep,
    email: Annotated[str, Form(max_length=320)] = "",
    roles: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> HTMLResponse:
    """Send an invitation; a refusal re-renders the panel with why (field errors beside
    their field; 403 for a role granting rights the inviter lacks)."""
    try:
        await invites.invite(session, settings, notifier, subject, email=email, roles=roles or [])
    except ValidationFailed as invalid:
        fields = {k: str(v) for k, v in invalid.details.get("fields", {}).items()}
        context = await _context(session, subject, fields=fields)
        return _partial(request, context, invalid.status_code)
    except LimitReached as refused:
        await report_limit_refusal(request.app.state.database, subject, refused)
        context = await _context(session, subject, error=SEATS_FULL)
        return _partial(request, context, refused.status_code)
    except (PermissionDenied, Conflict) as refused:
        context = await _context(session, subject, error=refused.message)
        return _partial(request, context, refused.status_code)
    context = await _context(session, subject, done=N_("Invitation sent."))
    return _partial(request, context, 201)


@router.post("/admin/users/invites/bulk", response_class=HTMLResponse)
async def bulk_invites(
    request: Request,
    session: DbSession,
    subject: Inviter,
    settings: SettingsDep,
    notifier: NotifierDep,
    action: Annotated[Literal["resend", "revoke"], Form()],
    invite_ids: Annotated[list[UUID], Form(min_length=1, max_length=200)],
) -> HTMLResponse:
    """Resend or revoke every ticked invitation, all or nothing."""
    try:
        async with session.begin_nested():
            for invite_id in invite_ids:
                if action == "resend":
                    await invites.resend(session, settings, notifier, subject, invite_id)
                else:
                    await invites.revoke(session, subject, invite_id)
    except DomainError as refused:
        context = await _context(session, subject, error=refused.message)
        return _partial(request, context, refused.status_code)
    done = N_("Invitations sent again.") if action == "resend" else N_("Invitations revoked.")
    return _partial(request, await _context(session, subject, done=done))
