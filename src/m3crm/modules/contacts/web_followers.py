"""The followers card of a contact's profile (htmx): follow and unfollow oneself.

`POST /contacts/{id}/follow` and `/unfollow` call the same service as the API and
re-render `#followers`; a refused action (409 twice, 404 not following) comes back as
the card with its message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import DomainError
from m3crm.modules.contacts.auth import ContactsRead, ReadableContact
from m3crm.modules.contacts.followers import followers as follower_service
from m3crm.modules.contacts.models import Contact
from m3crm.web.templating import render

router = APIRouter(prefix="/contacts/{contact_id}", include_in_schema=False)


async def followers_context(
    session: DbSession, subject: AuthSubject, contact: Contact
) -> dict[str, Any]:
    """What `contacts/_followers.html` needs (the profile page includes it too)."""
    people = await follower_service.list(session, subject, contact)
    return {
        "contact": contact,
        "followers": people,
        "following": any(user.id == subject.user_id for user in people),
        "followers_error": None,
    }


async def card(
    request: Request,
    session: DbSession,
    subject: AuthSubject,
    contact: Contact,
    *,
    refused: DomainError | None = None,
) -> HTMLResponse:
    context = await followers_context(session, subject, contact)
    context["followers_error"] = refused.message if refused else None
    status_code = refused.status_code if refused else 200
    return render(request, "contacts/_followers.html", context, status_code=status_code)


@router.post("/follow", response_class=HTMLResponse)
async def follow(
    request: Request, contact: ReadableContact, session: DbSession, subject: ContactsRead
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    try:
        await follower_service.add(session, subject, contact, subject.user_id)
    except DomainError as refused:
        return await card(request, session, subject, contact, refused=refused)
    return await card(request, session, subject, contact)


@router.post("/unfollow", response_class=HTMLResponse)
async def unfollow(
    request: Request, contact: ReadableContact, session: DbSession, subject: ContactsRead
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    try:
        await follower_service.remove(session, subject, contact, subject.user_id)
    except DomainError as refused:
        return await card(request, session, subject, contact, refused=refused)
    return await card(request, session, subject, contact)
