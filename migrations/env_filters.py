"""What Alembic leaves out of autogenerate (shared by env.py and the drift test)."""

from __future__ import annotations

EXCLUDED_PREFIXES = ("procrastinate_",)
SEARCH_INDEX_SUFFIX = "_search"
"""Trigram indexes over `m3crm_fold(...)` expressions are written in migrations only (named
`ix_<table>_search`): Alembic cannot compare expression indexes with operator classes."""


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Skip procrastinate's own schema, which migration 0002 installs verbatim, and the
    expression-based search indexes."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(EXCLUDED_PREFIXES)
    if type_ == "index" and reflected:
        return not name.endswith(SEARCH_INDEX_SUFFIX)
    return True
