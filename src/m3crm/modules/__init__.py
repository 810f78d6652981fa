"""One package per spec capability; `MODULES` is the order they are loaded in."""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES: tuple[str, ...] = (
    "access",
    "plans",
    "runs",
    "notify",
    "identity",
    "audit",
    "customfields",
    "dictionaries",
    "contacts",
    "search",
)


def load_models() -> None:
    """Import every module's models so `Base.metadata` is complete (Alembic, tests)."""
    import m3crm.kernel.audit
    import m3crm.kernel.runs.models
    import m3crm.kernel.tenancy.models  # noqa: F401

    for name in MODULES:
        try:
            importlib.import_module(f"m3crm.modules.{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"m3crm.modules.{name}.models":
                raise


def load(name: str, part: str) -> ModuleType | None:
    """`m3crm.modules.<name>.<part>` if the module has that part."""
    try:
        return importlib.import_module(f"m3crm.modules.{name}.{part}")
    except ModuleNotFoundError as exc:
        if exc.name == f"m3crm.modules.{name}.{part}":
            return None
        raise
