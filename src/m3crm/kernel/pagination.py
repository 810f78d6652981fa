"""Seek (keyset) pagination with opaque cursors; never a deep OFFSET (ARCHITECTURE §5)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from m3crm.kernel.db.base import TenantKeyed
from m3crm.kernel.errors import ValidationFailed

T = TypeVar("T")
R = TypeVar("R", bound=TenantKeyed)

MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22}$"
"""A cursor is the last seen UUIDv7 id, 16 bytes in unpadded base64url: opaque to
clients, and every string matching this pattern is a valid cursor (so the OpenAPI
schema describes exactly what the server accepts)."""


def encode_cursor(last_id: UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> UUID:
    """Decode a cursor; anything malformed is a 422 on `cursor`."""
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ValidationFailed({"cursor": "Invalid cursor."})
    return UUID(bytes=base64.urlsafe_b64decode(cursor + "=="))


async def paginate_by_id(
    session: AsyncSession,
    stmt: Select[R],
    id_column: InstrumentedAttribute[UUID],
    page: PageRequest,
) -> Page[R]:
    """Newest first by UUIDv7 id (time-ordered), `limit + 1` rows to know if more exist."""
    limit = max(1, min(page.limit, MAX_LIMIT))
    if page.cursor:
        stmt = stmt.where(id_column < decode_cursor(page.cursor))
    rows = list((await session.execute(stmt.order_by(id_column.desc()).limit(limit + 1))).scalars())
    more = len(rows) > limit
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1].id) if more else None
    return Page(items=items, next_cursor=next_cursor)
