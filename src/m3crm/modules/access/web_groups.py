"""The "Groups" admin screen (§12.4): teams, their members (add, remove), the roles the
group gives its members (ticked roles, saved at once; refusals shown in place: 403 with
the codes the editor lacks, 422), and a new group. Same services as `/v1/admin/groups`;
plan feature `rbac.groups`. The roles section is shown to `groups.manage` holders only."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import Conflict, LimitReached, PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.access import repository, repository_groups
from m3crm.modules.access.api import GroupManager, GroupReader, MemberManager
from m3crm.modules.access.group_roles import group_roles
from m3crm.modules.access.groups import groups
from m3crm.modules.access.schemas import GroupRolesIO
from m3crm.modules.access.service import SUPER_ADMIN, access
from m3crm.web.forms import field_errors, parse_form
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Text = Annotated[str, Form(min_length=1, max_length=120)]
ROLES_INVALID = N_("Choose roles from the list.")
ROLES_DENIED = N_("You cannot give these roles: they carry permissions you do not have yourself.")


async def _list_context(
    session: DbSession, subject: AuthSubject, error: str | None = None
) -> dict[str, Any]:
    return {
        "groups": await groups.list_groups(session, subject),
        "can_manage": subject.can("groups.manage"),
        "error": error,
    }


@router.get("/admin/groups", response_class=HTMLResponse)
async def groups_page(request: Request, session: DbSession, subject: GroupReader) -> HTMLResponse:
    return render(request, "access/groups.html", await _list_context(session, subject))


@router.post("/admin/groups", response_model=None)
async def create_group(
    request: Request, session: DbSession, subject: GroupManager, code: Code, name: Text
) -> Response:
    """HTMX: create, then open the new group; a refusal re-renders the list with why."""
    try:
        group = await groups.create(
            session, subject, code=code, name=name, description="", is_active=True
        )
    except (Conflict, LimitReached, ValidationFailed) as refused:
        context = await _list_context(session, subject, refused.message)
        return render(request, "access/_groups_list.html", context, status_code=refused.status_code)
    return Response(status_code=204, headers={"HX-Redirect": f"/admin/groups/{group.id}"})


async def _members_context(
    session: DbSession, subject: AuthSubject, group_id: UUID
) -> dict[str, Any]:
    group, _ = await groups.detail(session, subject, group_id)
    members = await repository_groups.people_of_group(session, subject.tenant_id, group.id)
    inside = {uid for uid, _, _ in members}
    people = await repository.active_people(session, subject.tenant_id)
    return {
        "group": group,
        "members": members,
        "candidates": [p for p in people if p[0] not in inside],
        "can_manage": subject.can("groups.members.manage"),
        "can_view_entitlements": subject.can("entitlements.view"),
    }


async def _roles_context(
    session: DbSession,
    subject: AuthSubject,
    group_id: UUID,
    *,
    ticked: list[str] | None = None,
    error: str | None = None,
    missing: list[str] | None = None,
    saved: bool = False,
) -> dict[str, Any]:
    """The roles section: every role of the tenant but `super_admin` (never given through
    a group), those the group gives ticked (or `ticked`, what was sent, after a refusal)."""
    group, given = await group_roles.roles(session, subject, group_id)
    return {
        "group": group,
        "roles": [r for r, _ in await access.list_roles(session, subject) if r.code != SUPER_ADMIN],
        "ticked": set(ticked if ticked is not None else [r.code for r in given]),
        "roles_error": error,
        "missing": missing or [],
        "saved": saved,
    }


@router.get("/admin/groups/{group_id}", response_class=HTMLResponse)
async def group_page(
    request: Request, group_id: UUID, session: DbSession, subject: GroupReader
) -> HTMLResponse:
    context = await _members_context(session, subject, group_id)
    context["can_give_roles"] = subject.can("groups.manage")
    if context["can_give_roles"]:
        context |= await _roles_context(session, subject, group_id)
    return render(request, "access/group.html", context)


@router.post("/admin/groups/{group_id}/roles", response_class=HTMLResponse)
async def save_roles(
    request: Request, group_id: UUID, session: DbSession, subject: GroupManager
) -> HTMLResponse:
    """HTMX: make the ticked roles exactly those the group gives; re-renders the section
    with ✓, or with why not (403 naming the codes the editor lacks, 422) and what was
    ticked. Another tenant's group is a 404."""
    ticked = [str(v) for v in (await request.form()).getlist("roles")]
    try:
        body = parse_form(GroupRolesIO, {"roles": ticked}, {"roles": ROLES_INVALID})
        await group_roles.set_roles(session, subject, group_id, body.roles)
    except PermissionDenied as refused:
        context = await _roles_context(
            session, subject, group_id, ticked=ticked, error=ROLES_DENIED,
            missing=refused.details.get("permissions", []),
        )  # fmt: skip
        return render(request, "access/_group_roles.html", context, status_code=403)
    except ValidationFailed as invalid:
        error = field_errors(invalid).get("roles", invalid.message)
        context = await _roles_context(session, subject, group_id, ticked=ticked, error=error)
        return render(request, "access/_group_roles.html", context, status_code=422)
    context = await _roles_context(session, subject, group_id, saved=True)
    return render(request, "access/_group_roles.html", context)


@router.post("/admin/groups/{group_id}/members", response_class=HTMLResponse)
async def add_member(
    request: Request,
    group_id: UUID,
    session: DbSession,
    subject: MemberManager,
    user_id: Annotated[UUID, Form()],
) -> HTMLResponse:
    await groups.add_members(session, subject, group_id, [user_id])
    context = await _members_context(session, subject, group_id)
    return render(request, "access/_members.html", context)


@router.post("/admin/groups/{group_id}/members/{user_id}/remove", response_class=HTMLResponse)
async def remove_member(
    request: Request, group_id: UUID, user_id: UUID, session: DbSession, subject: MemberManager
) -> HTMLResponse:
    await groups.remove_member(session, subject, group_id, user_id)
    context = await _members_context(session, subject, group_id)
    return render(request, "access/_members.html", context)
