"""The "Roles" admin screen (§12.4): every role with its holders and the record
visibility scope it grants per record type (editable), and the role tree drawn as nested
boxes (place a role below another from any box or from the form, remove a link; a cycle
is refused with its path). Same services as the JSON API."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession, entitlements_of
from m3crm.kernel.errors import Conflict, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.visibility import RECORD_TYPES, Scope
from m3crm.modules.access import scopes
from m3crm.modules.access.api import (
    HIERARCHY_FEATURE,
    HierarchyManager,
    RoleManager,
    RoleReader,
)
from m3crm.modules.access.role_tree import build_forest
from m3crm.modules.access.service import access
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

SCOPE_LABELS = {
    Scope.OWN: N_("Own records"),
    Scope.GROUP: N_("Their groups' records"),
    Scope.SUBTREE: N_("Records of people below them"),
    Scope.ALL: N_("All records"),
}


async def _hierarchy_context(
    session: DbSession,
    subject: AuthSubject,
    error: str | None = None,
    cycle: list[str] | None = None,
) -> dict[str, Any]:
    roles = await access.list_roles(session, subject)
    edges = await access.hierarchy(session, subject)
    return {
        "forest": build_forest([role for role, _ in roles], edges),
        "role_choices": [(role.id, role.code, role.name) for role, _ in roles],
        "can_edit_tree": subject.can("roles.hierarchy.manage"),
        "error": error,
        "cycle": cycle or [],
    }


async def _row_context(
    session: DbSession, subject: AuthSubject, role_id: UUID, saved: bool = False
) -> dict[str, Any]:
    return {
        "role_scopes": await scopes.role_scopes(session, subject, role_id),
        "record_types": RECORD_TYPES,
        "scope_labels": SCOPE_LABELS,
        "can_manage": subject.can("roles.manage"),
        "saved": saved,
    }


@router.get("/admin/roles", response_class=HTMLResponse)
async def roles_page(request: Request, session: DbSession, subject: RoleReader) -> HTMLResponse:
    roles = await access.list_roles(session, subject)
    rows = [
        {"role": role, "holders": holders, **await _row_context(session, subject, role.id)}
        for role, holders in roles
    ]
    features = (await entitlements_of(session, subject)).features
    context: dict[str, Any] = {
        "rows": rows,
        "has_tree": HIERARCHY_FEATURE in features,
        "can_manage_roles": subject.can("roles.manage"),
    }
    if context["has_tree"]:
        context |= await _hierarchy_context(session, subject)
    return render(request, "access/roles.html", context)


@router.post("/admin/roles/{role_id}/scopes", response_class=HTMLResponse)
async def save_scopes(
    request: Request, role_id: UUID, session: DbSession, subject: RoleManager
) -> HTMLResponse:
    """HTMX: one select per record type (`scope_<type>`); re-renders the role's scopes."""
    form = await request.form()
    chosen: dict[str, Scope] = {}
    for record_type in RECORD_TYPES:
        value = form.get(f"scope_{record_type}")
        if value is not None:
            try:
                chosen[record_type] = Scope(str(value))
            except ValueError as bad:
                raise ValidationFailed(
                    {f"scope_{record_type}": N_("Choose one of the offered options.")}
                ) from bad
    await scopes.set_role_scopes(session, subject, role_id, chosen)
    context = await _row_context(session, subject, role_id, saved=True)
    return render(request, "access/_scopes_form.html", {**context, "role_id": role_id})


@router.post("/admin/roles/hierarchy", response_class=HTMLResponse)
async def add_edge(
    request: Request,
    session: DbSession,
    subject: HierarchyManager,
    parent_role_id: Annotated[UUID, Form()],
    child_role_id: Annotated[UUID, Form()],
) -> HTMLResponse:
    """HTMX: place a role under another; a refusal re-renders the tree with its reason
    (and, for a cycle, the roles it would go round)."""
    try:
        await access.add_edge(session, subject, parent_role_id, child_role_id)
    except Conflict as refused:
        context = await _hierarchy_context(
            session, subject, refused.message, refused.details.get("cycle")
        )
        return render(request, "access/_hierarchy.html", context, status_code=409)
    except ValidationFailed as invalid:
        first = next(iter(invalid.details.get("fields", {}).values()), invalid.message)
        context = await _hierarchy_context(session, subject, first)
        return render(request, "access/_hierarchy.html", context, status_code=422)
    return render(request, "access/_hierarchy.html", await _hierarchy_context(session, subject))


@router.post("/admin/roles/hierarchy/{edge_id}/delete", response_class=HTMLResponse)
async def remove_edge(
    request: Request, edge_id: UUID, session: DbSession, subject: HierarchyManager
) -> HTMLResponse:
    await access.remove_edge(session, subject, edge_id)
    return render(request, "access/_hierarchy.html", await _hierarchy_context(session, subject))
