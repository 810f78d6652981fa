"""The administrators' people list (`/admin/users`): who is in the workspace, their roles
and status, filtered by name or e-mail and status; the same service as
`GET /v1/admin/users`. Global search's people results open it filtered on one person.

Those holding `user.manage` also get the "New person" form (`POST /admin/users/new`,
HTMX): the body is checked by the API's schema (`AdminUserIn`) and goes to the same
service as `POST /v1/admin/users`; a refusal re-renders the form with why (beside the
field, or the seat / conflict message) and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import StringConstraints

from m3crm.kernel.auth import AuthSubject, DbSession, entitlements_of
from m3crm.kernel.entitlements import report_limit_refusal
from m3crm.kernel.errors import Conflict, LimitReached, PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_, SUPPORTED_LOCALES, locale_name
from m3crm.kernel.pagination import CURSOR_PATTERN, PageRequest
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.access.groups import groups
from m3crm.modules.access.service import access
from m3crm.modules.identity import seats, user_creation
from m3crm.modules.identity.api_invites import SettingsDep
from m3crm.modules.identity.api_users import AdminUserIn, UserCreator, UserReader
from m3crm.modules.identity.invites import INVITABLE_ROLES_EXCLUDED
from m3crm.modules.identity.users import STATUS_LABELS, PeopleQuery, UserChanges, user_admin
from m3crm.modules.identity.work_codes import WORK_CODE_LABELS, work_code_choices
from m3crm.modules.notify.deps import NotifierDep
from m3crm.web.filters import BlankIsNone
from m3crm.web.forms import field_errors, parse_form
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)


SearchText = Annotated[
    Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f]+$")] | None,
    BlankIsNone,
]
StatusFilter = Annotated[UserStatus | None, BlankIsNone]

NEW_USER_MESSAGES = {
    "email": N_("Enter a valid e-mail address."),
    "full_name": N_("Enter a name of up to 200 characters."),
    "roles": N_("Choose at least one role you may give."),
    "locale": N_("Choose one of the offered languages."),
}
NEW_USER_SEATS_FULL = N_("Every seat is taken: free one or raise the plan's limit, then try again.")


async def _new_user_context(
    session: DbSession,
    subject: AuthSubject,
    *,
    values: dict[str, Any] | None = None,
    fields: dict[str, str] | None = None,
    error: str | None = None,
    created: Any = None,
) -> dict[str, Any]:
    """What `identity/_new_user.html` shows: the roles one may give (as invitations),
    the languages, what was typed (after a refusal), why, or the person just created."""
    return {
        "new_user_roles": [
            role
            for role, _ in await access.list_roles(session, subject)
            if role.code not in INVITABLE_ROLES_EXCLUDED
        ],
        "locale_choices": [(code, locale_name(code)) for code in SUPPORTED_LOCALES],
        "work_choices": await work_code_choices(session, subject.tenant_id, subject.card.locale),
        "work_labels": WORK_CODE_LABELS,
        "new_user": values or {"roles": [], "locale": subject.tenant.default_locale},
        "new_user_fields": fields or {},
        "new_user_error": error,
        "new_user_created": created,
    }


SignedIn = Literal["week", "month", "stale", "never"]
SIGNED_IN_LABELS: dict[str, str] = {
    "week": N_("In the last 7 days"),
    "month": N_("In the last 30 days"),
    "stale": N_("Not in the last 30 days"),
    "never": N_("Never"),
}
YesNo = Literal["yes", "no"]


def _yes_no(value: YesNo | None) -> bool | None:
    return None if value is None else value == "yes"


def _signed_in(value: SignedIn | None) -> tuple[datetime | None, datetime | None, bool]:
    """(signed in after, not signed in since, never) for the page's choice."""
    now = datetime.now(UTC)
    if value == "week":
        return now - timedelta(days=7), None, False
    if value == "month":
        return now - timedelta(days=30), None, False
    if value == "stale":
        return None, now - timedelta(days=30), False
    return None, None, value == "never"


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(
    request: Request,
    session: DbSession,
    subject: UserReader,
    q: SearchText = None,
    status: StatusFilter = None,
    role: Annotated[
        Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z0-9_]+$")] | None,
        BlankIsNone,
    ] = None,
    group: Annotated[UUID | None, BlankIsNone] = None,
    two_factor: Annotated[YesNo | None, BlankIsNone] = None,
    phone: Annotated[YesNo | None, BlankIsNone] = None,
    signed_in: Annotated[SignedIn | None, BlankIsNone] = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> HTMLResponse:
    """The People list with its filters (name or e-mail, status, role, group, second
    factor, verified phone, last sign-in), the seats panel and the bulk actions."""
    after, stale_since, never = _signed_in(signed_in)
    query = PeopleQuery(
        status=status,
        role=role,
        group_id=group,
        q=q,
        two_factor=_yes_no(two_factor),
        phone_verified=_yes_no(phone),
        signed_in_after=after,
        not_signed_in_since=stale_since,
        never_signed_in=never,
    )
    page = await user_admin.list_users(
        session, subject, PageRequest(limit=50, cursor=cursor), query
    )
    chosen = {
        "q": q, "status": status, "role": role, "group": group and str(group),
        "two_factor": two_factor, "phone": phone, "signed_in": signed_in,
    }  # fmt: skip
    filters = urlencode({k: v for k, v in chosen.items() if v})
    usage = await seats.usage(session, subject.tenant_id) if subject.can("seats.view") else None
    roles = [r for r, _ in await access.list_roles(session, subject)]
    may_see_groups = (
        subject.can("user.read")
        and "rbac.groups" in (await entitlements_of(session, subject)).features
    )
    all_groups = await groups.list_groups(session, subject) if may_see_groups else []
    can_create = subject.can("user.manage")
    return render(
        request,
        "identity/users.html",
        {
            **(await _new_user_context(session, subject) if can_create else {}),
            "can_create": can_create,
            "bulk_groups": all_groups if subject.can("groups.members.manage") else [],
            "bulk_roles": roles if subject.can("role.assign") else [],
            "filter_roles": roles,
            "filter_groups": all_groups,
            "can_suspend": subject.can("user.suspend"),
            "can_invite": subject.can("user.invite"),
            "seats": usage,
            "page": page,
            "chosen": chosen,
            "q": q or "",
            "status": status,
            "status_labels": STATUS_LABELS,
            "signed_in_labels": SIGNED_IN_LABELS,
            "filters": filters,
        },
    )


BulkAction = Literal["add_to_group", "assign_role", "suspend"]
BULK_PERMISSIONS: dict[str, str] = {
    "add_to_group": "groups.members.manage",
    "assign_role": "role.assign",
    "suspend": "user.suspend",
}


@router.post("/admin/users/bulk", response_model=None)
async def bulk_action(
    session: DbSession,
    subject: UserReader,
    action: Annotated[BulkAction, Form()],
    user_ids: Annotated[list[UUID], Form(min_length=1, max_length=200)],
    target: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """HTMX: one action on the ticked people, all or nothing (any refusal — a missing
    permission, a person of another tenant, suspending oneself — rolls every change back
    and shows why); then the list reloads."""
    if not subject.can(BULK_PERMISSIONS[action]):
        raise PermissionDenied(details={"permission": BULK_PERMISSIONS[action]})
    if action == "add_to_group":
        (await entitlements_of(session, subject)).require_feature("rbac.groups")
        try:
            group_id = UUID(target)
        except ValueError as bad:
            raise ValidationFailed({"target": N_("Choose a group.")}) from bad
        await groups.add_members(session, subject, group_id, user_ids)
    elif action == "assign_role":
        if not target:
            raise ValidationFailed({"target": N_("Choose a role.")})
        for user_id in user_ids:
            await access.change_user_roles(session, subject, user_id, assign=[target], remove=[])
    else:
        for user_id in user_ids:
            await user_admin.update(
                session, subject, user_id, UserChanges(status=UserStatus.SUSPENDED)
            )
    return Response(status_code=204, headers={"HX-Refresh": "true"})


@router.post("/admin/users/new", response_class=HTMLResponse)
async def create_person(
    request: Request,
    session: DbSession,
    subject: UserCreator,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> HTMLResponse:
    """HTMX: create the person and show a link to them (201), or re-render the form with
    what was typed and why not (422 beside the field or seats full, 409 taken / invited).
    A role beyond the creator's rights is the page's 403."""
    form = await request.form()
    values: dict[str, Any] = {
        "email": str(form.get("email", "")),
        "full_name": str(form.get("full_name", "")),
        "roles": [str(r) for r in form.getlist("roles")],
        "locale": str(form.get("locale", "")) or None,
        "job_title_code": str(form.get("job_title_code", "")) or None,
        "department_code": str(form.get("department_code", "")) or None,
    }
    try:
        async with session.begin_nested():  # a refusal leaves nothing behind
            body = parse_form(AdminUserIn, values, NEW_USER_MESSAGES)
            created = await user_creation.create(
                session, settings, notifier, subject, body.new_user()
            )
    except ValidationFailed as invalid:
        fields = field_errors(invalid)
        context = await _new_user_context(
            session, subject, values=values, fields=fields,
            error=None if fields else invalid.message,
        )  # fmt: skip
        return _new_user_partial(request, context, invalid.status_code)
    except LimitReached as refused:
        await report_limit_refusal(request.app.state.database, subject, refused)
        context = await _new_user_context(
            session, subject, values=values, error=NEW_USER_SEATS_FULL
        )
        return _new_user_partial(request, context, refused.status_code)
    except Conflict as refused:
        context = await _new_user_context(session, subject, values=values, error=refused.message)
        return _new_user_partial(request, context, refused.status_code)
    context = await _new_user_context(session, subject, created=created.user)
    return _new_user_partial(request, context, 201)


def _new_user_partial(request: Request, context: dict[str, Any], status_code: int) -> HTMLResponse:
    return render(request, "identity/_new_user.html", context, status_code=status_code)
