"""`GET /search/results`: the result list the shell's search box swaps in (htmx partial).

Same service call as `GET /v1/search`; the markup is a contract with the shell's script
(ids, roles, `data-href`): see `templates/search/_results.html`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession, Subject
from m3crm.modules.search.service import (
    DEFAULT_LIMIT_PER_TYPE,
    normalise_query,
    search_everything,
)
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/search/results", response_class=HTMLResponse)
async def results(
    request: Request, session: DbSession, subject: Subject, q: str = ""
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    groups = await search_everything(
        session, subject, q, types=None, limit_per_type=DEFAULT_LIMIT_PER_TYPE
    )
    return render(
        request,
        "search/_results.html",
        {
            "query": q.strip(),
            "searched": bool(normalise_query(q)),
            "groups": groups,
            "count": sum(len(group.hits) for group in groups),
        },
    )
