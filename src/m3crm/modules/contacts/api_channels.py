"""JSON API of a contact's channels, verification, company links and consent (Section 3
§4): `/v1/contacts/{id}/channels[/{channel_id}[/verify/start|confirm]]`,
`/v1/contacts/{id}/links[/{link_id}]`, `/v1/contacts/{id}/opt-in|opt-out`.

The contact is fetched scoped by a dependency before the body is read: another
tenant's id is a 404 whatever the body holds.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import (
    Conflict,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    RateLimited,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.web.errors import json_error_body
from m3crm.modules.contacts.auth import (
    ConsentContact,
    ContactsRead,
    ContactsUpdate,
    EditableContact,
    ReadableContact,
)
from m3crm.modules.contacts.auth import ConsentManage as ConsentManager
from m3crm.modules.contacts.channels import channels as channel_service
from m3crm.modules.contacts.links import links as link_service
from m3crm.modules.contacts.schemas import (
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    CodeIn,
    ConsentIn,
    LinkIn,
    LinkOut,
)
from m3crm.modules.contacts.verification import CodeRefused, verification
from m3crm.modules.notify.consent import ConsentRequired
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.models import ConsentAction

router = APIRouter(
    prefix="/v1/contacts/{contact_id}",
    tags=["contacts"],
    responses=error_responses(NotAuthenticated, PermissionDenied, NotFound, ValidationFailed),
)


@router.post(
    "/channels",
    response_model=ChannelOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict),
)
async def add_channel(
    body: ChannelIn, contact: EditableContact, session: DbSession, subject: ContactsUpdate
) -> ChannelOut:
    """E-mail checked and lower-cased, phone and WhatsApp in E.164 (422); a value another
    contact holds is 409 with `details.existing_id`."""
    channel = await channel_service.add(
        session, subject, contact, body.type, body.value,
        is_primary=body.is_primary, locale=body.locale,
    )  # fmt: skip
    return ChannelOut.model_validate(channel)


@router.patch(
    "/channels/{channel_id}", response_model=ChannelOut, responses=error_responses(Conflict)
)
async def update_channel(
    channel_id: UUID,
    body: ChannelPatch,
    contact: EditableContact,
    session: DbSession,
    subject: ContactsUpdate,
) -> ChannelOut:
    channel = await channel_service.update(
        session, subject, contact, channel_id,
        value=body.value, is_primary=body.is_primary, locale=body.locale,
    )  # fmt: skip
    return ChannelOut.model_validate(channel)


@router.delete("/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_channel(
    channel_id: UUID, contact: EditableContact, session: DbSession, subject: ContactsUpdate
) -> Response:
    await channel_service.remove(session, subject, contact, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{channel_id}/verify/start",
    response_model=ChannelOut,
    responses=error_responses(InvalidTransition, PlanRequired, RateLimited, ConsentRequired),
)
async def start_verification(
    channel_id: UUID,
    contact: EditableContact,
    session: DbSession,
    subject: ContactsUpdate,
    notifier: NotifierDep,
) -> ChannelOut:
    """Sends a 6-digit code to the number by SMS or WhatsApp (the channel's type), valid
    10 minutes; at most once a minute (429). An e-mail channel is 422."""
    channel = await verification.start(session, subject, notifier, contact, channel_id)
    return ChannelOut.model_validate(channel)


@router.post("/channels/{channel_id}/verify/confirm", response_model=ChannelOut)
async def confirm_verification(
    request: Request,
    channel_id: UUID,
    body: CodeIn,
    contact: EditableContact,
    session: DbSession,
    subject: ContactsUpdate,
) -> ChannelOut | Response:
    """A wrong code is 422 `AUTH_2FA_INVALID_CODE` with `attempts_left` (the attempt is
    counted); an expired one 422 `OTP_EXPIRED`; nothing pending 404. Audited
    `contact.channel.verified` on success."""
    try:
        channel = await verification.confirm(session, subject, contact, channel_id, body.code)
    except CodeRefused as refused:
        payload = json_error_body(
            refused.code,
            refused.message,
            refused.details,
            getattr(request.state, "request_id", None),
        )
        return Response(payload, status_code=refused.status_code, media_type="application/json")
    return ChannelOut.model_validate(channel)


@router.get("/links", response_model=list[LinkOut])
async def list_links(
    contact: ReadableContact, session: DbSession, subject: ContactsRead
) -> list[LinkOut]:
    return [
        LinkOut.model_validate(link) for link in await link_service.list(session, subject, contact)
    ]


@router.post(
    "/links",
    response_model=LinkOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict),
)
async def add_link(
    body: LinkIn, contact: EditableContact, session: DbSession, subject: ContactsUpdate
) -> LinkOut:
    """A secondary company link (the primary one follows the contact's `company_id`)."""
    link = await link_service.add(session, subject, contact, body.company_id, body.relation)
    return LinkOut.model_validate(link)


@router.delete("/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_link(
    link_id: UUID, contact: EditableContact, session: DbSession, subject: ContactsUpdate
) -> Response:
    """Removing the primary link also clears the contact's `company_id`."""
    await link_service.remove(session, subject, contact, link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/opt-in", response_model=ChannelOut, responses=error_responses(Conflict))
async def opt_in(
    body: ConsentIn, contact: ConsentContact, session: DbSession, subject: ConsentManager
) -> ChannelOut:
    """Recorded in the consent history with its source and text (`contact.opted_in`);
    a number on the STOP list cannot be opted in to SMS (409)."""
    channel = await channel_service.set_consent(
        session, subject, contact, body.channel_id, ConsentAction.OPT_IN,
        source=body.source, text=body.text,
    )  # fmt: skip
    return ChannelOut.model_validate(channel)


@router.post("/opt-out", response_model=ChannelOut)
async def opt_out(
    body: ConsentIn, contact: ConsentContact, session: DbSession, subject: ConsentManager
) -> ChannelOut:
    """Recorded in the consent history (`contact.opted_out`); marketing stops at once."""
    channel = await channel_service.set_consent(
        session, subject, contact, body.channel_id, ConsentAction.OPT_OUT,
        source=body.source, text=body.text,
    )  # fmt: skip
    return ChannelOut.model_validate(channel)
