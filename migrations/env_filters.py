"""What Alembic leaves out of autogenerate (shared by env.py and the drift test)."""

from __future__ import annotations

EXCLUDED_PREFIXES = ("procrastinate_",)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Skip procrastinate's own schema, which migration 0002 installs verbatim."""
    return not (type_ == "table" and name is not None and name.startswith(EXCLUDED_PREFIXES))
