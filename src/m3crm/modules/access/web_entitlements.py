"""The "Entitlements" admin screen (spec §3A.6, §12.4): the overrides of one level (the
workspace, a group or a person) with the plan's value beside each key, and a precedence
preview showing, for one person, every layer of every key and which one wins.

Same services as `/v1/admin/entitlements/...`: reading needs `entitlements.view`, saving
`entitlements.overrides.manage` and the plan's `admin.entitlementsOverrides` (402; the
editor is read-only with an upgrade notice without it). A level is chosen by a `target`
token (`tenant`, `group:<id>`, `user:<id>`): client input, so the group or user is resolved
inside the caller's tenant (another tenant's id is a 404) on every request.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.entitlements import load_plan_entitlements
from m3crm.kernel.errors import NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.plan_catalog import FEATURES, LIMIT_KEYS, UNLIMITED
from m3crm.kernel.tenancy.repository import user_by_id
from m3crm.modules.access import overrides, repository
from m3crm.modules.access.api import EntitlementsReader, OverridesManager
from m3crm.modules.access.groups import groups
from m3crm.modules.access.models import OverrideLevel
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

# Every feature but the gate itself, which follows the plan only; every limit.
EDITABLE_FEATURES = tuple(sorted(FEATURES - {overrides.OVERRIDES_FEATURE}))
EDITABLE_LIMITS = tuple(sorted(LIMIT_KEYS))
# A feature's select: blank follows the level below, or one of these.
FEATURE_STATES = {"on": N_("On"), "off": N_("Off")}
TENANT_TARGET = "tenant"
TARGET_LEVELS = {"group": OverrideLevel.GROUP, "user": OverrideLevel.USER}
# The editor's form fields: one per key.
FEATURE_FIELD = "feature:{}"
LIMIT_FIELD = "limit:{}"
# Sent after a save so that the precedence preview reloads itself.
CHANGED_EVENT = "entitlements-changed"

Target = Annotated[str, Query(max_length=60)]
PreviewUser = Annotated[UUID | None, Query(alias="user_id")]


def _parse_target(token: str) -> tuple[OverrideLevel, UUID | None]:
    """`tenant`, `group:<id>` or `user:<id>`; anything else is a 422 on `target`."""
    if token == TENANT_TARGET:
        return OverrideLevel.TENANT, None
    kind, _, raw_id = token.partition(":")
    level = TARGET_LEVELS.get(kind)
    try:
        target_id = UUID(raw_id)
    except ValueError:
        level = None
    if level is None:
        raise ValidationFailed({"target": N_("Choose one of the offered options.")})
    return level, target_id


async def _target_label(
    session: DbSession, subject: AuthSubject, level: OverrideLevel, target_id: UUID | None
) -> str:
    """The chosen group's or person's name, found inside the caller's tenant (404 else);
    the workspace has none (the template names it)."""
    if level is OverrideLevel.GROUP:
        assert target_id is not None
        group, _ = await groups.detail(session, subject, target_id)
        return group.name
    if level is OverrideLevel.USER:
        assert target_id is not None
        user = await user_by_id(session, target_id)
        if user is None:
            raise NotFound()
        return user.full_name or str(user.email)
    return ""


def _stored_values(found: overrides.OverrideSet) -> dict[str, str]:
    """The form's values for the stored overrides (a key left out follows)."""
    values = {
        FEATURE_FIELD.format(key): "on" if enabled else "off"
        for key, enabled in found.features.items()
    }
    values |= {LIMIT_FIELD.format(key): str(count) for key, count in found.limits.items()}
    return values


def _parse_form(form: FormData) -> tuple[overrides.OverrideSet, dict[str, str], dict[str, str]]:
    """The posted editor: the overrides, the raw values (to re-render) and field errors.
    Only the editable keys are read; a blank field follows the level below."""
    features: dict[str, bool] = {}
    limits: dict[str, int] = {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key in EDITABLE_FEATURES:
        name = FEATURE_FIELD.format(key)
        raw = str(form.get(name) or "")
        values[name] = raw
        if raw and raw not in FEATURE_STATES:
            errors[name] = N_("Choose one of the offered options.")
        elif raw:
            features[key] = raw == "on"
    for key in EDITABLE_LIMITS:
        name = LIMIT_FIELD.format(key)
        raw = str(form.get(name) or "").strip()
        values[name] = raw
        if not raw:
            continue
        if not raw.isascii() or not raw.isdigit() or int(raw) > UNLIMITED:
            errors[name] = N_("Enter a whole number of 0 or more, or leave it blank.")
        else:
            limits[key] = int(raw)
    return overrides.OverrideSet(features=features, limits=limits), values, errors


async def _editor_context(
    session: DbSession,
    subject: AuthSubject,
    token: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> dict[str, Any]:
    """The overrides editor of one level; `values` (posted ones) replace the stored."""
    level, target_id = _parse_target(token)
    label = await _target_label(session, subject, level, target_id)
    if values is None:
        values = _stored_values(await overrides.get_overrides(session, subject, level, target_id))
    plan = await load_plan_entitlements(session, subject.tenant_id)
    plan_allows = overrides.OVERRIDES_FEATURE in plan.features
    return {
        "target": token,
        "level": level.value,
        "target_label": label,
        "plan": plan,
        "features": EDITABLE_FEATURES,
        "limits": EDITABLE_LIMITS,
        "feature_states": FEATURE_STATES,
        # Blank follows the plan at the workspace level, the levels below elsewhere.
        "follow_label": N_("Follow the plan")
        if level is OverrideLevel.TENANT
        else N_("Not overridden here"),
        "feature_field": FEATURE_FIELD,
        "limit_field": LIMIT_FIELD,
        "unlimited": UNLIMITED,
        "values": values,
        "errors": errors or {},
        "plan_allows": plan_allows,
        "can_edit": plan_allows and subject.can("entitlements.overrides.manage"),
        "saved": saved,
    }


async def _preview_context(
    session: DbSession, subject: AuthSubject, user_id: UUID | None
) -> dict[str, Any]:
    """The precedence preview of `user_id` (the caller when None)."""
    chosen = user_id or subject.user_id
    return {
        "table": await overrides.precedence_table(session, subject, chosen),
        "preview_user": chosen,
        "unlimited": UNLIMITED,
    }


@router.get("/admin/entitlements", response_class=HTMLResponse)
async def entitlements_page(
    request: Request,
    session: DbSession,
    subject: EntitlementsReader,
    target: Target = TENANT_TARGET,
    preview_user: PreviewUser = None,
) -> HTMLResponse:
    context = {
        **await _editor_context(session, subject, target),
        **await _preview_context(session, subject, preview_user),
        "groups": [group for group, _ in await groups.list_groups(session, subject)],
        "people": await repository.active_people(session, subject.tenant_id),
    }
    return render(request, "access/entitlements.html", context)


@router.get("/admin/entitlements/overrides", response_class=HTMLResponse)
async def overrides_editor(
    request: Request, session: DbSession, subject: EntitlementsReader, target: Target
) -> HTMLResponse:
    """HTMX: the editor of the level chosen in the selector."""
    context = await _editor_context(session, subject, target)
    return render(request, "access/_overrides_form.html", context)


@router.post("/admin/entitlements/overrides", response_class=HTMLResponse)
async def save_overrides(
    request: Request, session: DbSession, subject: OverridesManager
) -> HTMLResponse:
    """HTMX: replace the overrides of the posted `target` with the form's (blank fields
    follow). 404 for another tenant's group or person, then 402 without the plan feature,
    then a mistake re-renders the editor (422) with a message beside each bad field."""
    form = await request.form()
    token = str(form.get("target") or "")
    level, target_id = _parse_target(token)
    await overrides.check_writable(session, subject, level, target_id)
    chosen, values, errors = _parse_form(form)
    if errors:
        context = await _editor_context(session, subject, token, values=values, errors=errors)
        return render(request, "access/_overrides_form.html", context, status_code=422)
    await overrides.set_overrides(session, subject, level, target_id, chosen)
    context = await _editor_context(session, subject, token, saved=True)
    response = render(request, "access/_overrides_form.html", context)
    response.headers["HX-Trigger"] = CHANGED_EVENT
    return response


@router.get("/admin/entitlements/preview", response_class=HTMLResponse)
async def precedence_preview(
    request: Request,
    session: DbSession,
    subject: EntitlementsReader,
    preview_user: PreviewUser = None,
) -> HTMLResponse:
    """HTMX: the precedence table of the chosen person, the caller by default (another
    tenant's is a 404)."""
    context = await _preview_context(session, subject, preview_user)
    return render(request, "access/_precedence.html", context)
