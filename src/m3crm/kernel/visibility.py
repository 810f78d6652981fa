"""Record visibility scopes (DECISIONS §12.3, issue 7): which owners' records a user sees.

Each role grants, per record type, one scope: `own` (records I own), `group` (owned by
someone sharing one of my groups), `subtree` (owned by someone under me in the role
tree), `all`. A user's view is the union over their roles; a role that sets no scope for
a type grants `all` (so a tenant that never configures scopes sees what it always saw).
Unowned records (no owner) are visible to everyone who may read the type at all.

The condition is SQL, applied inside the repository's base statement (never by
post-filtering), so lists, counts, search, export and detail lookups agree: a record out
of scope is simply not found (404). The access module provides the data
(`register_scope_source`); CRM modules register their record types and call
`owner_condition`. No registration means everyone sees everything (`all`).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, Select, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.ids import TenantId


class Scope(enum.StrEnum):
    OWN = "own"
    GROUP = "group"
    SUBTREE = "subtree"
    ALL = "all"


RECORD_TYPES: dict[str, str] = {}
"""Record types that honour scopes: type code → label msgid (for the admin screens)."""


def register_record_type(record_type: str, label: str) -> None:
    """A module declares a record type whose reads it filters with `owner_condition`."""
    RECORD_TYPES[record_type] = label


@dataclass(frozen=True, slots=True)
class ScopeSource:
    """What the access module knows. `scopes` answers the union of the scopes the user's
    roles grant for a record type (a role without a setting for the type grants `all`;
    a user without roles gets an empty set, treated as `all`: without roles they hold no
    read permission anyway). `group_peers` and `subordinates` give subqueries of user ids."""

    scopes: Callable[[AsyncSession, TenantId, UUID, str], Awaitable[frozenset[Scope]]]
    group_peers: Callable[[TenantId, UUID], Select[UUID]]
    subordinates: Callable[[TenantId, UUID], Select[UUID]]


_source: ScopeSource | None = None


def register_scope_source(source: ScopeSource) -> None:
    global _source
    _source = source


async def owner_condition(
    session: AsyncSession,
    subject: AuthSubject,
    record_type: str,
    owner: InstrumentedAttribute[UUID | None],
) -> ColumnElement[bool] | None:
    """The SQL condition on `owner` (a record's owner column) that limits `subject` to the
    records their scopes let them see; None when they see all of `record_type`."""
    if _source is None:
        return None
    scopes = await _source.scopes(session, subject.tenant_id, subject.user_id, record_type)
    if not scopes or Scope.ALL in scopes:
        return None
    allowed: list[ColumnElement[bool]] = [owner.is_(None), owner == subject.user_id]
    if Scope.GROUP in scopes:
        allowed.append(owner.in_(_source.group_peers(subject.tenant_id, subject.user_id)))
    if Scope.SUBTREE in scopes:
        allowed.append(owner.in_(_source.subordinates(subject.tenant_id, subject.user_id)))
    return or_(*allowed)
