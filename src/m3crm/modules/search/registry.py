"""Search providers: one per record type, registered by the module that owns the type.

A provider answers a folded query (`m3crm.kernel.text.fold`) with at most `limit` hits of
its own type, visible to the subject, inside the request's tenant-bound session. It reads
through its own module's repository: the search module never touches another module's
tables. A provider is only asked when the subject holds its `permission` and, when set,
the tenant's plan has its `feature`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.permissions import ensure_known


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result. `title` and `subtitle` are data (not translated); `path` opens it."""

    id: str
    title: str
    subtitle: str
    path: str


SearchFunction = Callable[[AsyncSession, AuthSubject, str, int], Awaitable[list[SearchHit]]]
"""`(session, subject, folded_query, limit) -> hits`, best match first."""


@dataclass(frozen=True, slots=True)
class SearchProvider:
    """`type` is the stable group id (`users`, `contacts`, ...); `label` an English msgid
    (marked with `N_`) that screens translate; `order` sorts the groups."""

    type: str
    label: str
    permission: str
    search: SearchFunction
    feature: str | None = None
    order: int = 100


_providers: dict[str, SearchProvider] = {}


def register_search_provider(provider: SearchProvider) -> None:
    """Add (or replace, for idempotent wiring) the provider of `provider.type`."""
    ensure_known(provider.permission)
    _providers[provider.type] = provider


def search_providers() -> list[SearchProvider]:
    """Every registered provider, in display order."""
    return sorted(_providers.values(), key=lambda p: (p.order, p.type))
