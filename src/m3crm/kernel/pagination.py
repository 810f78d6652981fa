"""Seek (keyset) pagination with opaque cursors; never a deep OFFSET (ARCHITECTURE §5)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
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


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Decode an opaque cursor; anything tampered with is a 422 on `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed({"cursor": "Invalid cursor."}) from exc
    if not isinstance(value, dict):
        raise ValidationFailed({"cursor": "Invalid cursor."})
    return value


async def paginate_by_id(
    session: AsyncSession,
    stmt: Select[R],
    id_column: InstrumentedAttribute[UUID],
    page: PageRequest,
) -> Page[R]:
    """Newest first by UUIDv7 id (time-ordered), `limit + 1` rows to know if more exist."""
    limit = max(1, min(page.limit, MAX_LIMIT))
    if page.cursor:
        try:
            after = UUID(str(decode_cursor(page.cursor).get("id")))
        except ValueError as exc:
            raise ValidationFailed({"cursor": "Invalid cursor."}) from exc
        stmt = stmt.where(id_column < after)
    rows = list((await session.execute(stmt.order_by(id_column.desc()).limit(limit + 1))).scalars())
    more = len(rows) > limit
    items = rows[:limit]
    next_cursor = encode_cursor({"id": str(items[-1].id)}) if more else None
    return Page(items=items, next_cursor=next_cursor)
