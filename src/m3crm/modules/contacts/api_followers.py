"""JSON API of a contact's followers (DECISIONS §3.2): `/v1/contacts/{id}/followers`.

The contact is fetched scoped (and with the viewer's privacy rule) by a dependency
before the body is read: another tenant's id, or a private contact of someone else, is a
404 whatever the body holds. Reading a contact is enough to follow it oneself.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from m3crm.kernel.auth import DbSession
from m3crm.kernel.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.modules.contacts.auth import ContactsRead, ReadableContact
from m3crm.modules.contacts.followers import followers as follower_service
from m3crm.modules.contacts.schemas import FollowerIn, FollowerOut

router = APIRouter(
    prefix="/v1/contacts/{contact_id}/followers",
    tags=["contacts"],
    responses=error_responses(NotAuthenticated, PermissionDenied, NotFound, ValidationFailed),
)


@router.get("", response_model=list[FollowerOut])
async def list_followers(
    contact: ReadableContact, session: DbSession, subject: ContactsRead
) -> list[FollowerOut]:
    """The people following the contact, oldest follow first."""
    users = await follower_service.list(session, subject, contact)
    return [FollowerOut.model_validate(user) for user in users]


@router.post(
    "",
    response_model=FollowerOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(Conflict),
)
async def add_follower(
    body: FollowerIn, contact: ReadableContact, session: DbSession, subject: ContactsRead
) -> FollowerOut:
    """Follow the contact yourself (`user_id` = you), or, as its owner or an admin, make
    an active colleague who can see it follow it (403 otherwise). Following twice is
    409; an unknown or inactive user 422. Audited `contact.follower.added`."""
    user = await follower_service.add(session, subject, contact, body.user_id)
    return FollowerOut.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_follower(
    user_id: UUID, contact: ReadableContact, session: DbSession, subject: ContactsRead
) -> Response:
    """Unfollow (yourself, or anyone as the owner or an admin). Someone not following is
    404. Audited `contact.follower.removed`."""
    await follower_service.remove(session, subject, contact, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
