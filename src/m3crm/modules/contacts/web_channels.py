"""The channels card of a contact's profile (htmx): add a channel, record consent, verify
a number by code. Each action re-renders `#channels` with the same services as the API;
a refused action comes back as the card with its message (422/409/429...)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import DomainError, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.auth import (
    ConsentContact,
    ConsentManage,
    ContactsUpdate,
    EditableContact,
)
from m3crm.modules.contacts.channels import channels as channel_service
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.models import ChannelType, Contact
from m3crm.modules.contacts.policies import can_edit_contact
from m3crm.modules.contacts.verification import verification
from m3crm.modules.contacts.web_support import CHANNEL_LABELS, field_errors
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.models import ConsentAction
from m3crm.web.templating import render

router = APIRouter(prefix="/contacts/{contact_id}/channels", include_in_schema=False)
FormText = Annotated[str, Form(max_length=320)]


async def card(
    request: Request,
    session: DbSession,
    subject: AuthSubject,
    contact: Contact,
    *,
    status_code: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    pending: UUID | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "view": await contact_service.view(session, subject, contact),
        "channel_labels": CHANNEL_LABELS,
        "can_edit": subject.can("contact.update") and can_edit_contact(subject, contact),
        "can_consent": subject.can("contact.consent.manage"),
        "error": error,
        "errors": errors or {},
        "notice": notice,
        "pending": pending,
    }
    return render(request, "contacts/_channels.html", context, status_code=status_code)


@router.post("", response_class=HTMLResponse)
async def add_channel(
    request: Request,
    contact: EditableContact,
    session: DbSession,
    subject: ContactsUpdate,
    type: Annotated[str, Form(max_length=20)] = "",
    value: FormText = "",
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    try:
        kind = ChannelType(type)
    except ValueError:
        return await card(request, session, subject, contact, status_code=422,
                          errors={"value": N_("Choose e-mail, phone or WhatsApp.")})  # fmt: skip
    try:
        await channel_service.add(session, subject, contact, kind, value.strip())
    except ValidationFailed as invalid:
        return await card(
            request, session, subject, contact, status_code=422, errors=field_errors(invalid)
        )
    except DomainError as refused:
        return await card(
            request,
            session,
            subject,
            contact,
            status_code=refused.status_code,
            error=refused.message,
        )
    return await card(request, session, subject, contact, notice=N_("Channel added."))


@router.post("/{channel_id}/{action}", response_class=HTMLResponse)
async def consent(
    request: Request,
    channel_id: UUID,
    action: str,
    contact: ConsentContact,
    session: DbSession,
    subject: ConsentManage,
) -> HTMLResponse:
    """`opt-in` or `opt-out`, recorded with source `profile` (who and when are audited)."""
    request.state.locale = subject.user.locale
    chosen = {"opt-in": ConsentAction.OPT_IN, "opt-out": ConsentAction.OPT_OUT}.get(action)
    if chosen is None:
        return await card(
            request, session, subject, contact, status_code=404, error=N_("Not found.")
        )
    try:
        await channel_service.set_consent(session, subject, contact, channel_id, chosen,
                                          source="profile", text=None)  # fmt: skip
    except DomainError as refused:
        return await card(
            request,
            session,
            subject,
            contact,
            status_code=refused.status_code,
            error=refused.message,
        )
    return await card(request, session, subject, contact)


@router.post("/{channel_id}/verify/start", response_class=HTMLResponse)
async def start_verification(
    request: Request,
    channel_id: UUID,
    contact: EditableContact,
    session: DbSession,
    subject: ContactsUpdate,
    notifier: NotifierDep,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    try:
        await verification.start(session, subject, notifier, contact, channel_id)
    except DomainError as refused:
        return await card(
            request,
            session,
            subject,
            contact,
            status_code=refused.status_code,
            error=refused.message,
        )
    return await card(request, session, subject, contact, pending=channel_id,
                      notice=N_("We sent a code to this number."))  # fmt: skip


@router.post("/{channel_id}/verify/confirm", response_class=HTMLResponse)
async def confirm_verification(
    request: Request,
    channel_id: UUID,
    contact: EditableContact,
    session: DbSession,
    subject: ContactsUpdate,
    code: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """A refused code is answered (not raised), so its counted attempt is committed."""
    request.state.locale = subject.user.locale
    try:
        await verification.confirm(session, subject, contact, channel_id, code.strip())
    except DomainError as refused:
        return await card(request, session, subject, contact, status_code=refused.status_code,
                          error=refused.message, pending=channel_id)  # fmt: skip
    return await card(request, session, subject, contact, notice=N_("The number is verified."))
