"""Global search: one query, asked of every provider the subject may use.

Invariants: the query is folded (`kernel.text.fold`) once, here, so every provider sees the
same text; a provider is asked only when the subject holds its permission (and a verified
e-mail unless that permission is self-service, as `kernel.auth.require` demands) and the
tenant's plan has its feature; groups come in registry order and empty ones are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject, entitlements_of
from m3crm.kernel.entitlements import Entitlements
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.permission_codes import SELF_SERVICE
from m3crm.kernel.text import fold
from m3crm.modules.search.registry import SearchHit, SearchProvider, search_providers

MAX_QUERY_LENGTH = 100
MAX_LIMIT_PER_TYPE = 20
DEFAULT_LIMIT_PER_TYPE = 5
QUERY_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""No control characters (NUL cannot be stored or compared by PostgreSQL)."""

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class SearchGroup:
    """The hits of one provider; `label` is its English msgid (screens translate it)."""

    type: str
    label: str
    hits: list[SearchHit]


def normalise_query(raw: str) -> str:
    """The folded query with runs of white space made one space and the ends trimmed.

    Raises `ValidationFailed` on field `q` for a query longer than `MAX_QUERY_LENGTH` or
    holding control characters, so both routers refuse bad input with the same 422.
    """
    if len(raw) > MAX_QUERY_LENGTH:
        raise ValidationFailed({"q": N_("The search text is too long.")})
    if not re.fullmatch(QUERY_PATTERN, raw):
        raise ValidationFailed({"q": N_("The search text contains characters not allowed.")})
    return _SPACES.sub(" ", fold(raw)).strip()


def check_types(types: set[str] | None) -> None:
    """Refuse a type no provider is registered for (422 on field `type`)."""
    known = {provider.type for provider in search_providers()}
    if types and not types <= known:
        raise ValidationFailed({"type": N_("Unknown search type.")})


async def search_everything(
    session: AsyncSession,
    subject: AuthSubject,
    query: str,
    *,
    types: set[str] | None,
    limit_per_type: int,
) -> list[SearchGroup]:
    """The non-empty groups for `query`, asking only the providers of `types` (all when
    `None`) that the subject may use. An empty query (after folding) finds nothing."""
    check_types(types)
    folded = normalise_query(query)
    if not folded:
        return []
    limit = max(1, min(limit_per_type, MAX_LIMIT_PER_TYPE))
    entitlements: Entitlements | None = None
    groups: list[SearchGroup] = []
    for provider in search_providers():
        if types is not None and provider.type not in types:
            continue
        if not _may_use(subject, provider):
            continue
        if provider.feature is not None:
            if entitlements is None:
                entitlements = await entitlements_of(session, subject)
            if provider.feature not in entitlements.features:
                continue
        hits = await provider.search(session, subject, folded, limit)
        if hits:
            groups.append(SearchGroup(provider.type, provider.label, hits))
    return groups


def _may_use(subject: AuthSubject, provider: SearchProvider) -> bool:
    if not subject.can(provider.permission):
        return False
    return subject.user.is_verified or provider.permission in SELF_SERVICE
