"""The merge screen (Section 3 §8 "side-by-side compare with field pickers").

`/contacts/merge?target=<id>` lists the target's likely duplicates (dedupe soft and
blocking matches); choosing one shows both side by side with a picker per field; the
POST calls the same `merge` service as the API and lands on the kept contact.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.auth import ContactsMerge
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.dedupe import Candidate, dedupe
from m3crm.modules.contacts.merge import MERGEABLE
from m3crm.modules.contacts.merge import merge as merge_service
from m3crm.modules.contacts.models import ChannelType
from m3crm.modules.contacts.web_support import CHANNEL_LABELS, LIFECYCLE_LABELS, pickers
from m3crm.web.templating import render

router = APIRouter(prefix="/contacts/merge", include_in_schema=False)

FIELD_LABELS = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "job_title": N_("Job title"),
    "company_id": N_("Company"),
    "owner_user_id": N_("Owner"),
    "lifecycle_stage": N_("Stage"),
}


@router.get("", response_class=HTMLResponse)
async def merge_page(
    request: Request,
    session: DbSession,
    subject: ContactsMerge,
    target: UUID,
    source: UUID | None = None,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    kept = await contact_service.view(
        session, subject, await contact_service.get_readable(session, subject, target)
    )
    c = kept.contact
    candidate = Candidate(
        first_name=c.first_name,
        last_name=c.last_name,
        emails=[ch.normalized_value for ch in kept.channels if ch.type is ChannelType.EMAIL],
        phones=[ch.normalized_value for ch in kept.channels if ch.type is not ChannelType.EMAIL],
        company_id=c.company_id,
        exclude_id=c.id,
    )
    matches = await dedupe.check(session, subject, candidate)
    other = None
    if source is not None:
        other = await contact_service.view(
            session, subject, await contact_service.get_readable(session, subject, source)
        )
    pick = await pickers(session, subject)
    context = {
        "target": kept,
        "source": other,
        "matches": matches,
        "fields": [(name, FIELD_LABELS[name]) for name in MERGEABLE],
        "people": dict(pick["people"]),
        "companies": dict(pick["companies"]),
        "lifecycles": LIFECYCLE_LABELS,
        "channel_labels": CHANNEL_LABELS,
    }
    return render(request, "contacts/merge.html", context)


@router.post("", response_class=HTMLResponse)
async def merge_contacts(request: Request, session: DbSession, subject: ContactsMerge) -> Response:
    request.state.locale = subject.user.locale
    form = await request.form()
    try:
        source_id = UUID(str(form.get("source_id") or ""))
        target_id = UUID(str(form.get("target_id") or ""))
    except ValueError:
        raise ValidationFailed({"source_id": N_("Choose two contacts.")}) from None
    take = [name for name in MERGEABLE if form.get(f"pick.{name}") == "source"]
    kept = await merge_service.merge(session, subject, source_id, target_id, take)
    return Response(status_code=204, headers={"HX-Redirect": f"/contacts/{kept.id}"})
