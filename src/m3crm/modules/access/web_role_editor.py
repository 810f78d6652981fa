"""The role editor (§12.4, §3A): a new custom role, and one role's name and permission
matrix — the registry's areas as fieldsets of checkboxes, each code with what it allows,
searchable — the codes it inherits from the roles below it, and the people holding it
(give it to someone, take it away: `role.assign`).

Rules (the service's, shown here): a built-in role's matrix is read-only (only its name
changes); nobody grants a code they lack (403); a role anybody holds cannot be deleted
(409, with the people to give another role first). Same service and body schemas as
`/v1/admin/roles`; every write is an htmx POST.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.entitlements import report_limit_refusal
from m3crm.kernel.errors import Conflict, DomainError, LimitReached, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.permission_codes import AREA_LABELS, PERMISSIONS, PermissionDef
from m3crm.modules.access import repository
from m3crm.modules.access.api import RoleAssigner, RoleManager, RoleReader
from m3crm.modules.access.models import Role
from m3crm.modules.access.schemas import RoleIn, RolePatch
from m3crm.modules.access.service import access
from m3crm.web.forms import field_errors, parse_form
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

FIELD_MESSAGES: Mapping[str, str] = {
    "code": N_("Use up to 64 lower-case letters, digits or underscores."),
    "name": N_("Enter a name of up to 120 characters."),
    "permissions": N_("Choose permissions from the list."),
}


def _matrix() -> list[tuple[str, list[PermissionDef]]]:
    """The registry by area, in the registry's area order."""
    by_area: dict[str, list[PermissionDef]] = {area: [] for area in AREA_LABELS}
    for permission in PERMISSIONS.values():
        by_area[permission.area].append(permission)
    return [(area, codes) for area, codes in by_area.items() if codes]


def _values(form: FormData) -> dict[str, Any]:
    return {
        "code": str(form.get("code") or "").strip(),
        "name": str(form.get("name") or "").strip(),
        "permissions": [str(v) for v in form.getlist("permissions")],
    }


def _context(
    subject: AuthSubject,
    *,
    role: Role | None,
    granted: Sequence[str],
    holders: int = 0,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str | None = None,
    blocked_by: Sequence[Mapping[str, str]] = (),
    saved: bool = False,
    inherited: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "role": role,
        "holders": holders,
        "matrix": _matrix(),
        "area_labels": AREA_LABELS,
        "granted": set(granted),
        "grantable": subject.permissions,
        "can_manage": subject.can("roles.manage"),
        "values": values or {},
        "errors": errors or {},
        "error": error,
        "blocked_by": blocked_by,
        "saved": saved,
        "inherited": inherited or {},
    }


async def _role(
    session: DbSession, subject: AuthSubject, role_id: UUID
) -> tuple[Role, list[str], int]:
    role, codes = await access.role_permissions(session, subject, role_id)
    holders = dict((r.id, n) for r, n in await access.list_roles(session, subject))
    return role, codes, holders.get(role.id, 0)


@router.get("/admin/roles/new", response_class=HTMLResponse)
async def new_role_page(request: Request, subject: RoleManager) -> HTMLResponse:
    return render(request, "access/role.html", _context(subject, role=None, granted=[]))


@router.post("/admin/roles/new", response_model=None)
async def create_role(request: Request, session: DbSession, subject: RoleManager) -> Response:
    """HTMX: create, then open the role; a refusal re-renders the form with what was
    chosen (422 per field, 409 code taken, 422 over `roles.max`)."""
    values = _values(await request.form())
    try:
        body = parse_form(RoleIn, values, FIELD_MESSAGES)
        role = await access.create_role(
            session, subject, code=body.code, name=body.name, permissions=body.permissions
        )
    except ValidationFailed as invalid:
        context = _context(
            subject, role=None, granted=values["permissions"], values=values,
            errors=field_errors(invalid) or {"form": invalid.message},
        )  # fmt: skip
        return render(request, "access/_role_form.html", context, status_code=422)
    except (Conflict, LimitReached) as refused:
        errors = {"code": refused.message} if isinstance(refused, Conflict) else {}
        context = _context(
            subject, role=None, granted=values["permissions"], values=values, errors=errors,
            error=None if errors else refused.message,
        )  # fmt: skip
        return render(request, "access/_role_form.html", context, status_code=refused.status_code)
    return Response(status_code=204, headers={"HX-Redirect": f"/admin/roles/{role.id}"})


@router.get("/admin/roles/{role_id}", response_class=HTMLResponse)
async def role_page(
    request: Request, role_id: UUID, session: DbSession, subject: RoleReader
) -> HTMLResponse:
    role, codes, holders = await _role(session, subject, role_id)
    inherited = await access.inherited_permissions(session, subject, role_id)
    context = _context(subject, role=role, granted=codes, holders=holders, inherited=inherited)
    context |= await _holders_context(session, subject, role)
    return render(request, "access/role.html", context)


@router.post("/admin/roles/{role_id}", response_class=HTMLResponse)
async def save_role(
    request: Request, role_id: UUID, session: DbSession, subject: RoleManager
) -> HTMLResponse:
    """HTMX: rename and, for a custom role, replace its permissions; re-renders the form
    (with ✓, or with why not)."""
    role, codes, holders = await _role(session, subject, role_id)
    values = _values(await request.form())
    patch: dict[str, Any] = {"name": values["name"]}
    chosen = codes
    if not role.is_system:
        # Codes the editor may not grant are shown ticked but disabled (not submitted):
        # they stay as they are.
        kept = [code for code in codes if code not in subject.permissions]
        chosen = sorted(set(values["permissions"]) | set(kept))
        patch["permissions"] = chosen
    try:
        body = parse_form(RolePatch, patch, FIELD_MESSAGES)
        role = await access.update_role(
            session, subject, role_id, name=body.name, permissions=body.permissions
        )
    except ValidationFailed as invalid:
        context = _context(
            subject, role=role, granted=chosen, holders=holders, values=values,
            errors=field_errors(invalid) or {"form": invalid.message},
        )  # fmt: skip
        return render(request, "access/_role_form.html", context, status_code=422)
    context = _context(subject, role=role, granted=chosen, holders=holders, saved=True)
    return render(request, "access/_role_form.html", context)


@router.post("/admin/roles/{role_id}/delete", response_model=None)
async def delete_role(
    request: Request, role_id: UUID, session: DbSession, subject: RoleManager
) -> Response:
    """HTMX: delete a custom role nobody holds, then back to the roles; a refusal
    re-renders the form naming the people who hold it."""
    try:
        await access.delete_role(session, subject, role_id)
    except Conflict as refused:
        role, codes, holders = await _role(session, subject, role_id)
        context = _context(
            subject, role=role, granted=codes, holders=holders, error=refused.message,
            blocked_by=refused.details.get("users", []),
        )  # fmt: skip
        return render(request, "access/_role_form.html", context, status_code=409)
    return Response(status_code=204, headers={"HX-Redirect": "/admin/roles"})


async def _holders_context(
    session: DbSession, subject: AuthSubject, role: Role, error: str | None = None
) -> dict[str, Any]:
    """Who holds the role directly, and (for `role.assign`) the active people it can go
    to next."""
    holders = await repository.role_holders(session, subject.tenant_id, role.id)
    held = {uid for uid, _ in holders}
    people = await repository.active_people(session, subject.tenant_id)
    return {
        "role": role,
        "role_holders": holders,
        "candidates": [p for p in people if p[0] not in held],
        "can_assign": subject.can("role.assign"),
        "holders_error": error,
    }


async def _change_holder(
    request: Request,
    session: DbSession,
    subject: AuthSubject,
    role_id: UUID,
    user_id: UUID,
    *,
    give: bool,
) -> HTMLResponse:
    """Give or take the role through the same service as `POST /v1/admin/users/{id}/roles`;
    a refusal (403 rights the giver lacks, 409 the last super admin or one's own right to
    assign, 422 a seat beyond the plan) re-renders the list with why, changing nothing."""
    role, _, _ = await _role(session, subject, role_id)
    change = (
        {"assign": [role.code], "remove": []} if give else {"assign": [], "remove": [role.code]}
    )
    try:
        async with session.begin_nested():
            await access.change_user_roles(session, subject, user_id, **change)
    except DomainError as refused:
        if isinstance(refused, LimitReached):  # shown here, so reported here
            await report_limit_refusal(request.app.state.database, subject, refused)
        context = await _holders_context(session, subject, role, refused.message)
        return render(
            request, "access/_role_holders.html", context, status_code=refused.status_code
        )
    context = await _holders_context(session, subject, role)
    return render(request, "access/_role_holders.html", context)


@router.post("/admin/roles/{role_id}/holders", response_class=HTMLResponse)
async def give_role(
    request: Request,
    role_id: UUID,
    session: DbSession,
    subject: RoleAssigner,
    user_id: Annotated[UUID, Form()],
) -> HTMLResponse:
    """HTMX: give the role to one more person."""
    return await _change_holder(request, session, subject, role_id, user_id, give=True)


@router.post("/admin/roles/{role_id}/holders/{user_id}/remove", response_class=HTMLResponse)
async def take_role(
    request: Request, role_id: UUID, user_id: UUID, session: DbSession, subject: RoleAssigner
) -> HTMLResponse:
    """HTMX: take the role from one person."""
    return await _change_holder(request, session, subject, role_id, user_id, give=False)
