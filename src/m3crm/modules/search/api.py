"""`GET /v1/search`: global search for any signed-in user (like `/v1/me/profile`).

What each user finds is decided per provider (permission and plan feature), so a user
who may see nothing gets 200 with no groups, never 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from m3crm.kernel.auth import AuthSubject, DbSession, Subject
from m3crm.kernel.errors import NotAuthenticated, ValidationFailed, error_responses
from m3crm.kernel.i18n import (
    DEFAULT_LOCALE,
    LOCALE_COOKIE,
    SUPPORTED_LOCALES,
    gettext,
    negotiate_locale,
)
from m3crm.modules.search.service import (
    DEFAULT_LIMIT_PER_TYPE,
    MAX_LIMIT_PER_TYPE,
    MAX_QUERY_LENGTH,
    QUERY_PATTERN,
    search_everything,
)

router = APIRouter(tags=["search"], responses=error_responses(NotAuthenticated, ValidationFailed))


class SearchItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    subtitle: str
    path: str


class SearchGroupOut(BaseModel):
    type: str
    label: str
    items: list[SearchItemOut]


class SearchOut(BaseModel):
    query: str
    groups: list[SearchGroupOut]


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


@router.get("/v1/search", response_model=SearchOut)
async def search(
    request: Request,
    session: DbSession,
    subject: Subject,
    q: Annotated[
        str,
        Query(
            max_length=MAX_QUERY_LENGTH,
            pattern=QUERY_PATTERN,
            description="Text to find; folded (case, Arabic spelling variants, digits).",
        ),
    ] = "",
    type: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="Only these groups (repeatable), e.g. `users`.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT_PER_TYPE)] = DEFAULT_LIMIT_PER_TYPE,
) -> SearchOut:
    """Groups with hits, in display order; a group the user may not see is absent."""
    groups = await search_everything(
        session, subject, q, types=set(type) if type else None, limit_per_type=limit
    )
    locale = response_locale(request, subject)
    return SearchOut(
        query=q,
        groups=[
            SearchGroupOut(
                type=group.type,
                label=gettext(locale, group.label),
                items=[SearchItemOut.model_validate(hit) for hit in group.hits],
            )
            for group in groups
        ],
    )
