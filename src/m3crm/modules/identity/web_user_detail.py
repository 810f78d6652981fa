"""The administrators' page of one person (`/admin/users/{id}`, spec §12.4): tabs Profile,
Security, Access, Preferences and Audit, as links (`?tab=`), rendered on the server.

Invariants:
- the person is fetched scoped first (another tenant's id is 404), then each tab reads
  only its own data, through the owning modules' services;
- actions post through htmx (the kernel refuses cookie writes without `HX-Request`) to the
  same service calls as `/v1/admin/users/{id}/…`, with the same permissions; a button the
  viewer may not use is not shown, and its route refuses it anyway (403);
- a lifecycle change runs in a savepoint: a refusal shown beside the form (409 owner of
  records, 422 bad new owner) leaves nothing behind when the request commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.auth import AuthSubject, DbSession, get_settings_dep
from m3crm.kernel.entitlements import load_user_entitlements
from m3crm.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_, format_decimal
from m3crm.kernel.pagination import CURSOR_PATTERN, MAX_LIMIT, PageRequest
from m3crm.kernel.plan_catalog import LIMIT_KEYS, UNLIMITED
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.access import overrides
from m3crm.modules.access.groups import groups
from m3crm.modules.access.service import access
from m3crm.modules.audit.repository import AuditFilters
from m3crm.modules.audit.service import audit
from m3crm.modules.identity import devices, preferences
from m3crm.modules.identity.api_users import (
    Deactivator,
    LogoutForcer,
    Reinstater,
    Suspender,
    UserEditor,
    UserReader,
)
from m3crm.modules.identity.users import STATUS_LABELS, PeopleQuery, UserWithRoles, user_admin
from m3crm.modules.identity.web_settings import (
    DENSITY_LABELS,
    THEME_LABELS,
    TIME_FORMAT_LABELS,
)
from m3crm.modules.identity.work_codes import work_codes_of
from m3crm.modules.notify import preferences as notify_preferences
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.web import BOOLEAN_PREFERENCES, PREFERENCE_LABELS
from m3crm.settings import Settings
from m3crm.web.filters import BlankIsNone
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

Tab = Literal["profile", "security", "access", "preferences", "audit"]
TABS: Final[tuple[tuple[Tab, str], ...]] = (
    ("profile", N_("Profile")),
    ("security", N_("Security")),
    ("access", N_("Access")),
    ("preferences", N_("Preferences")),
    ("audit", N_("Audit")),
)
TAB_PERMISSIONS: Final[dict[str, str]] = {"audit": "audit.read"}
"""Tabs that need more than `user.read`: hidden without it, 403 when asked for."""
GROUPS_FEATURE = "rbac.groups"
AUDIT_PAGE = 50
STATUS_ACTIONS: Final[dict[UserStatus, str]] = {
    UserStatus.SUSPENDED: "suspend",
    UserStatus.DEACTIVATED: "deactivate",
    UserStatus.ACTIVE: "reinstate",
}
"""The page's action (form) that asks for each status."""
STATUS_NOTICES: Final[dict[UserStatus, str]] = {
    UserStatus.SUSPENDED: N_("Suspended: this person cannot sign in and was signed out."),
    UserStatus.DEACTIVATED: N_("Deactivated: this person cannot sign in any more."),
    UserStatus.ACTIVE: N_("Reinstated: this person can sign in again."),
}
ReassignTo = Annotated[UUID | None, Form(), BlankIsNone]
AuditCursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN)]


# --- what each tab reads ------------------------------------------------------------------


async def _profile(
    session: AsyncSession, subject: AuthSubject, found: UserWithRoles
) -> dict[str, Any]:
    """The profile card and the lifecycle actions the viewer may take on this person now
    (never suspending or deactivating oneself: the service refuses it)."""
    user = found.user
    self_view = user.id == subject.user_id
    actions = {
        "suspend": subject.can("user.suspend") and user.status == UserStatus.ACTIVE,
        "deactivate": subject.can("user.deactivate") and user.status != UserStatus.DEACTIVATED,
        "reinstate": subject.can("user.reinstate") and user.status != UserStatus.ACTIVE,
    }
    if self_view:
        actions["suspend"] = actions["deactivate"] = False
    heirs: list[tuple[UUID, str]] = []
    if actions["suspend"] or actions["deactivate"]:
        active = await user_admin.list_users(
            session, subject, PageRequest(limit=MAX_LIMIT), PeopleQuery(status=UserStatus.ACTIVE)
        )
        heirs = [(u.user.id, u.user.full_name or u.user.email) for u in active.items]
        heirs = sorted((h for h in heirs if h[0] != user.id), key=lambda h: h[1].casefold())
    return {
        "work": await work_codes_of(session, subject.tenant_id, user.id, subject.card.locale),
        "actions": actions,
        "heirs": heirs,
    }


async def _security(
    session: AsyncSession, subject: AuthSubject, found: UserWithRoles
) -> dict[str, Any]:
    """Devices and IP addresses only for those who may sign the person out."""
    security = await user_admin.security(session, subject, found.user)
    return {
        "security": security,
        "locked": security.locked_until is not None and security.locked_until > datetime.now(UTC),
        "can_force_logout": subject.can("user.forceLogout"),
        "device_label": devices.device_label,
        "can_reset_password": subject.can("user.update")
        and found.user.status != UserStatus.DEACTIVATED,
    }


async def _access(
    session: AsyncSession, subject: AuthSubject, found: UserWithRoles
) -> dict[str, Any]:
    """Permissions need `role.read`, entitlements `entitlements.view`; groups show where
    the viewer's plan has groups (as `GET /v1/admin/groups`)."""
    user_id = found.user.id
    context: dict[str, Any] = {"granted": None, "entitlements": None, "groups": None}
    if subject.can("role.read"):
        context["granted"] = await access.effective_permissions(session, subject, user_id)
    viewer = await load_user_entitlements(session, subject.tenant_id, subject.user_id)
    if GROUPS_FEATURE in viewer.features:
        context["groups"] = await groups.groups_of_user(session, subject, user_id)
    if subject.can("entitlements.view"):
        found_ents, reasons = await overrides.effective_entitlements(
            session, subject.tenant_id, user_id
        )
        limit_keys = LIMIT_KEYS | set(found_ents.limits)
        context["entitlements"] = {
            "plan": found_ents.plan_code,
            "features": [
                (key, key in found_ents.features, reasons[key])
                for key in sorted(reasons)
                if key not in limit_keys
            ],
            "limits": [
                (key, found_ents.limits.get(key, 0), reasons.get(key, ""))
                for key in sorted(limit_keys)
            ],
            "unlimited": UNLIMITED,
        }
    return context


async def _preferences(
    session: AsyncSession, subject: AuthSubject, found: UserWithRoles
) -> dict[str, Any]:
    user = found.user
    notify = await notify_preferences.effective(session, subject.tenant_id, user.id)
    return {
        "settings": await preferences.settings_of(session, subject.tenant_id, user),
        "notify": notify_preferences.as_dict(notify),
        "notify_labels": [(name, PREFERENCE_LABELS[name]) for name in BOOLEAN_PREFERENCES],
        "themes": THEME_LABELS,
        "densities": DENSITY_LABELS,
        "time_formats": TIME_FORMAT_LABELS,
    }


async def _audit(
    session: AsyncSession, subject: AuthSubject, found: UserWithRoles, cursor: str | None
) -> dict[str, Any]:
    """Entries about the person or by them, newest first, `AUDIT_PAGE` at a time."""
    filters = AuditFilters(involving_user_id=found.user.id)
    page = await audit.list_logs(
        session, subject, filters, PageRequest(limit=AUDIT_PAGE, cursor=cursor)
    )
    return {
        "entries": page,
        "names": await audit.actor_names(session, subject, page.items),
        "entry_url": _entry_url,
    }


def _entry_url(entry: AuditLog) -> str:
    """The audit screen filtered down to this entry's record and time, so it is the
    first row there (the anchor scrolls to it)."""
    query = {"to": entry.occurred_at.isoformat(), "entity_type": entry.entity_type}
    if entry.entity_id:
        query["entity_id"] = entry.entity_id
    return "/admin/audit?" + urlencode(query) + f"#audit-{entry.id}"


def _tab_links(subject: AuthSubject, user_id: UUID) -> list[tuple[Tab, str, str]]:
    """(tab, label, url) of the tabs the viewer may open."""
    return [
        (tab, label, f"/admin/users/{user_id}?" + urlencode({"tab": tab}))
        for tab, label in TABS
        if subject.can(TAB_PERMISSIONS.get(tab, "user.read"))
    ]


async def _panel(
    session: AsyncSession,
    subject: AuthSubject,
    found: UserWithRoles,
    tab: Tab,
    *,
    cursor: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The context of one tab's panel (its template is `identity/_user_<tab>.html`)."""
    if tab == "profile":
        data = await _profile(session, subject, found)
    elif tab == "security":
        data = await _security(session, subject, found)
    elif tab == "access":
        data = await _access(session, subject, found)
    elif tab == "preferences":
        data = await _preferences(session, subject, found)
    else:
        data = await _audit(session, subject, found, cursor)
    return {
        "found": found,
        "tab": tab,
        "panel": f"identity/_user_{tab}.html",
        "status_labels": STATUS_LABELS,
        "notice": None,
        "refusal": None,
        **data,
        **extra,
    }


# --- pages --------------------------------------------------------------------------------


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(
    request: Request,
    user_id: UUID,
    session: DbSession,
    subject: UserReader,
    tab: Tab = "profile",
    cursor: AuditCursor = None,
) -> HTMLResponse:
    """One person, one tab. An unknown `tab` is 422 (a broken link is shown, not
    silently replaced by another tab); a tab the viewer may not see is 403."""
    request.state.locale = subject.user.locale
    found = await user_admin.get(session, subject, user_id)
    needed = TAB_PERMISSIONS.get(tab)
    if needed and not subject.can(needed):
        raise PermissionDenied(details={"permission": needed})
    context = await _panel(session, subject, found, tab, cursor=cursor)
    context["tabs"] = _tab_links(subject, user_id)
    return render(request, "identity/user.html", context)


@router.get("/admin/users/{user_id}/audit", response_class=HTMLResponse)
async def user_audit_rows(
    request: Request,
    user_id: UUID,
    session: DbSession,
    subject: UserReader,
    cursor: AuditCursor = None,
) -> HTMLResponse:
    """HTMX "Load more" of the Audit tab: the next rows and the next button."""
    request.state.locale = subject.user.locale
    found = await user_admin.get(session, subject, user_id)
    if not subject.can("audit.read"):
        raise PermissionDenied(details={"permission": "audit.read"})
    context = await _audit(session, subject, found, cursor)
    return render(request, "identity/_user_audit_rows.html", {"found": found, **context})


# --- actions ------------------------------------------------------------------------------


async def _change_status(
    request: Request,
    session: AsyncSession,
    subject: AuthSubject,
    user_id: UUID,
    target: UserStatus,
    reassign_to: UUID | None = None,
) -> HTMLResponse:
    """Transition, then the Profile panel with a notice; a refusal the form can answer
    (records to hand over: 409; a wrong new owner: 422) comes back beside the form."""
    request.state.locale = subject.user.locale
    refusal: dict[str, Any] | None = None
    status_code = 200
    try:
        async with session.begin_nested():
            found = await user_admin.transition(session, subject, user_id, target, reassign_to)
    except Conflict as refused:
        if "owned" not in refused.details:
            raise
        refusal = {"action": STATUS_ACTIONS[target], "message": refused.message}
        refusal["owned"] = refused.details["owned"]
        status_code = 409
    except ValidationFailed as refused:
        refusal = {"action": STATUS_ACTIONS[target], "fields": refused.details.get("fields", {})}
        status_code = 422
    if refusal is not None:
        found = await user_admin.get(session, subject, user_id)
    notice = STATUS_NOTICES[target] if refusal is None else None
    context = await _panel(session, subject, found, "profile", notice=notice, refusal=refusal)
    return render(request, "identity/_user_profile.html", context, status_code=status_code)


@router.post("/admin/users/{user_id}/suspend", response_class=HTMLResponse)
async def suspend(
    request: Request,
    user_id: UUID,
    session: DbSession,
    subject: Suspender,
    reassign_to: ReassignTo = None,
) -> HTMLResponse:
    """As `POST /v1/admin/users/{id}/suspend` (`user.suspend`)."""
    return await _change_status(
        request, session, subject, user_id, UserStatus.SUSPENDED, reassign_to
    )


@router.post("/admin/users/{user_id}/deactivate", response_class=HTMLResponse)
async def deactivate(
    request: Request,
    user_id: UUID,
    session: DbSession,
    subject: Deactivator,
    reassign_to: ReassignTo = None,
) -> HTMLResponse:
    """As `POST /v1/admin/users/{id}/deactivate` (`user.deactivate`): a person who owns
    records needs a new owner (409 beside the form, listing what they own)."""
    return await _change_status(
        request, session, subject, user_id, UserStatus.DEACTIVATED, reassign_to
    )


@router.post("/admin/users/{user_id}/reinstate", response_class=HTMLResponse)
async def reinstate(
    request: Request, user_id: UUID, session: DbSession, subject: Reinstater
) -> HTMLResponse:
    """As `POST /v1/admin/users/{id}/reinstate` (`user.reinstate`; a seat is needed)."""
    return await _change_status(request, session, subject, user_id, UserStatus.ACTIVE)


@router.post("/admin/users/{user_id}/force-logout", response_class=HTMLResponse)
async def force_logout(
    request: Request, user_id: UUID, session: DbSession, subject: LogoutForcer
) -> HTMLResponse:
    """As `POST /v1/admin/users/{id}/force-logout` (`user.forceLogout`)."""
    request.state.locale = subject.user.locale
    ended = await user_admin.force_logout(session, subject, user_id)
    found = await user_admin.get(session, subject, user_id)
    notice = N_("Signed out everywhere. Sessions ended: %(count)s.")
    context = await _panel(session, subject, found, "security", notice=notice)
    context["notice_args"] = {"count": format_decimal(ended, subject.user.locale)}
    return render(request, "identity/_user_security.html", context)


@router.post("/admin/users/{user_id}/reset-password", response_class=HTMLResponse)
async def reset_password(
    request: Request,
    user_id: UUID,
    session: DbSession,
    subject: UserEditor,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    notifier: NotifierDep,
) -> HTMLResponse:
    """As `POST /v1/admin/users/{id}/reset-password` (`user.update`); a deactivated
    person gets none (409 `INVALID_TRANSITION`, as the API)."""
    request.state.locale = subject.user.locale
    await user_admin.reset_password(session, subject, user_id, settings, notifier)
    found = await user_admin.get(session, subject, user_id)
    notice = N_("A password reset link was sent to this person's e-mail address.")
    context = await _panel(session, subject, found, "security", notice=notice)
    return render(request, "identity/_user_security.html", context)
