"""Seek (keyset) pagination with opaque cursors; never a deep OFFSET (ARCHITECTURE §5)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import Select, literal, tuple_
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


SORT_CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22,800}$"
"""A cursor of `paginate_sorted`: base64url of JSON `[sort value, last id]`."""


def encode_sort_cursor(value: str | datetime | None, last_id: UUID) -> str:
    shown = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([shown, last_id.hex], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_sort_cursor(cursor: str, *, temporal: bool) -> tuple[str | datetime | None, UUID]:
    """The sort value and id of a cursor; anything malformed is a 422 on `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
        if not isinstance(decoded, list) or len(decoded) != 2:
            raise ValueError(decoded)
        value, last = decoded
        if not isinstance(last, str) or (value is not None and not isinstance(value, str)):
            raise ValueError(decoded)
        last_id = UUID(hex=last)
        return (datetime.fromisoformat(value) if temporal and value else value), last_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationFailed({"cursor": "Invalid cursor."}) from None


@dataclass(frozen=True, slots=True)
class Sort:
    """Order by `column` then id (both descending or both ascending); `column` None
    orders by the UUIDv7 id alone (creation order). Index `(tenant_id, column, id)`."""

    column: InstrumentedAttribute[Any] | None = None
    descending: bool = True
    temporal: bool = False


async def paginate_sorted(
    session: AsyncSession,
    stmt: Select[R],
    id_column: InstrumentedAttribute[UUID],
    page: PageRequest,
    sort: Sort,
) -> Page[R]:
    """Seek pagination on `(sort column, id)`: the cost of page 10,000 is the cost of
    page 1. The sort column must be NOT NULL (row comparison skips NULLs)."""
    limit = max(1, min(page.limit, MAX_LIMIT))
    keys: list[Any] = [id_column] if sort.column is None else [sort.column, id_column]
    if page.cursor:
        value, last_id = decode_sort_cursor(page.cursor, temporal=sort.temporal)
        bound: list[Any] = [last_id] if sort.column is None else [value, last_id]
        left, right = tuple_(*keys), tuple_(*[literal(v) for v in bound])
        stmt = stmt.where(left < right if sort.descending else left > right)
    order = [k.desc() if sort.descending else k.asc() for k in keys]
    rows = list((await session.execute(stmt.order_by(*order).limit(limit + 1))).scalars())
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        value = None if sort.column is None else getattr(last, sort.column.key)
        next_cursor = encode_sort_cursor(value, last.id)
    return Page(items=items, next_cursor=next_cursor)
