"""JSON API: `/v1/dictionaries/{kind}` (read, any signed-in user) and
`/v1/admin/dictionaries/{kind}` (the tenant's own entries, `dictionaries.manage`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response, status

from m3crm.kernel.auth import AuthSubject, DbSession, Subject, require
from m3crm.kernel.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.i18n import DEFAULT_LOCALE, LOCALE_COOKIE, SUPPORTED_LOCALES, negotiate_locale
from m3crm.modules.dictionaries.schemas import EntryCreate, EntryOut, EntryPatch
from m3crm.modules.dictionaries.service import (
    DictionaryKind,
    EntryChanges,
    EntrySpec,
    dictionaries,
)

Manager = Annotated[AuthSubject, Depends(require("dictionaries.manage"))]

router = APIRouter(
    tags=["dictionaries"],
    responses=error_responses(NotAuthenticated, ValidationFailed),
)


def response_locale(request: Request, subject: AuthSubject) -> str:
    """The language the client asks for (`?lang=`, the locale cookie, Accept-Language),
    else the user's own."""
    asked = (
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
    )
    if any(asked):
        return negotiate_locale(*asked)
    return subject.user.locale if subject.user.locale in SUPPORTED_LOCALES else DEFAULT_LOCALE


def _add_routes(kind: DictionaryKind, param: str) -> None:
    """The routes of one dictionary: its own paths (no `{kind}` parameter), so each
    dictionary is its own resource in the OpenAPI document."""
    read_path = f"/v1/dictionaries/{kind.value}"
    admin_path = f"/v1/admin/dictionaries/{kind.value}"
    entry_path = f"{admin_path}/{{{param}}}"
    name = kind.value.replace("-", "_")

    @router.get(read_path, response_model=list[EntryOut], name=f"list_{name}")
    async def list_entries(
        request: Request, session: DbSession, subject: Subject
    ) -> list[EntryOut]:
        """The active entries the organisation can choose from: the global ones and, with
        the plan feature `admin.customDictionaries`, its own; `label` in the response
        language."""
        locale = response_locale(request, subject)
        entries = await dictionaries.list_entries(session, subject.tenant_id, kind)
        return [EntryOut.of(e, locale) for e in entries]

    @router.get(
        admin_path,
        response_model=list[EntryOut],
        responses=error_responses(PermissionDenied),
        name=f"admin_list_{name}",
    )
    async def admin_list_entries(
        request: Request, session: DbSession, subject: Manager, include_inactive: bool = True
    ) -> list[EntryOut]:
        """Global and own entries, deactivated ones included unless
        `include_inactive=false`."""
        locale = response_locale(request, subject)
        entries = await dictionaries.list_entries(
            session, subject.tenant_id, kind, active_only=not include_inactive
        )
        return [EntryOut.of(e, locale) for e in entries]

    @router.post(
        admin_path,
        response_model=EntryOut,
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(PermissionDenied, PlanRequired, Conflict),
        name=f"create_{name}",
    )
    async def create_entry(
        body: EntryCreate, request: Request, session: DbSession, subject: Manager
    ) -> EntryOut:
        """Add an entry of the organisation's own (audited); 409 when the code is taken,
        including by a global entry."""
        spec = EntrySpec(
            code=body.code,
            label_en=body.label_en,
            label_ar=body.label_ar,
            sort_order=body.sort_order,
        )
        entry = await dictionaries.create(session, subject, kind, spec)
        return EntryOut.of(entry, response_locale(request, subject))

    # The path parameter is named per dictionary (`job_title_id`, `department_id`).
    entry_id_param = Path(alias=param)

    @router.patch(
        entry_path,
        response_model=EntryOut,
        responses=error_responses(PermissionDenied, PlanRequired, NotFound),
        name=f"update_{name}",
    )
    async def update_entry(
        body: EntryPatch,
        request: Request,
        session: DbSession,
        subject: Manager,
        entry_id: UUID = entry_id_param,
    ) -> EntryOut:
        """Own entries only: a global entry (read-only) is 404, like another
        organisation's; audited with before and after."""
        changes = EntryChanges(**body.model_dump(exclude_unset=True, exclude_none=True))
        entry = await dictionaries.update(session, subject, kind, entry_id, changes)
        return EntryOut.of(entry, response_locale(request, subject))

    @router.delete(
        entry_path,
        status_code=status.HTTP_204_NO_CONTENT,
        responses=error_responses(PermissionDenied, PlanRequired, NotFound),
        name=f"deactivate_{name}",
    )
    async def deactivate_entry(
        session: DbSession, subject: Manager, entry_id: UUID = entry_id_param
    ) -> Response:
        """Deactivates an own entry (kept for the profiles holding its code); a global
        entry is 404."""
        await dictionaries.deactivate(session, subject, kind, entry_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)


PATH_PARAMS: dict[DictionaryKind, str] = {
    DictionaryKind.JOB_TITLES: "job_title_id",
    DictionaryKind.DEPARTMENTS: "department_id",
}
for _kind, _param in PATH_PARAMS.items():
    _add_routes(_kind, _param)
