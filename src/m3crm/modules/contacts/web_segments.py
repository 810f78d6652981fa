"""Saving the contact list's current filters as a segment (the list's "Save as segment").

The chips become a definition of the segment language (`filters`): "my contacts" →
`owner_user_id eq me`, "verified channel" → `has_verified_channel eq true`, a stage →
`lifecycle_stage eq`, the search box → `name starts_with`; the same `segment.create`
as the API checks and audits it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import DomainError, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.auth import ContactsUpdate
from m3crm.modules.contacts.models import Lifecycle, SegmentEntity
from m3crm.modules.contacts.segments import segment as segment_service
from m3crm.modules.contacts.web_support import field_errors
from m3crm.web.templating import render

router = APIRouter(prefix="/contacts/segments", include_in_schema=False)


@router.post("", response_class=HTMLResponse)
async def save_filters(
    request: Request,
    session: DbSession,
    subject: ContactsUpdate,
    name: Annotated[str, Form(max_length=120)] = "",
    mine: Annotated[str, Form(max_length=10)] = "",
    verified: Annotated[str, Form(max_length=10)] = "",
    lifecycle: Annotated[str, Form(max_length=20)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    request.state.locale = subject.user.locale
    conditions: list[dict[str, Any]] = []
    if mine:
        conditions.append(
            {"field": "owner_user_id", "operator": "eq", "value": str(subject.user_id)}
        )
    if verified:
        conditions.append({"field": "has_verified_channel", "operator": "eq", "value": True})
    if lifecycle in {stage.value for stage in Lifecycle}:
        conditions.append({"field": "lifecycle_stage", "operator": "eq", "value": lifecycle})
    if q.strip():
        conditions.append({"field": "name", "operator": "starts_with", "value": q.strip()})
    try:
        if not name.strip():
            raise ValidationFailed({"name": N_("Give the segment a name.")})
        if not conditions:
            raise ValidationFailed({"name": N_("Choose a filter or type a search first.")})
        saved = await segment_service.create(
            session, subject, name=name.strip(), entity=SegmentEntity.CONTACT,
            definition={"op": "and", "conditions": conditions},
        )  # fmt: skip
    except ValidationFailed as invalid:
        context = {"error": next(iter(field_errors(invalid).values()))}
        return render(request, "contacts/_segment_error.html", context, status_code=422)
    except DomainError as refused:
        context = {"error": refused.message}
        return render(
            request, "contacts/_segment_error.html", context, status_code=refused.status_code
        )
    return Response(status_code=204, headers={"HX-Redirect": f"/contacts?segment={saved.id}"})
