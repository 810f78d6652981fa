"""Query-string filters of list pages: a select's "All" option or an emptied search box
submits an empty string, which means "no filter", not an invalid value."""

from __future__ import annotations

from pydantic import BeforeValidator


def _blank_to_none(value: object) -> object:
    return value or None


BlankIsNone = BeforeValidator(_blank_to_none)
"""`Annotated[X | None, BlankIsNone]`: `?status=` reads as no status filter."""
