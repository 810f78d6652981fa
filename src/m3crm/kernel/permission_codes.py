"""Provisional registry (being replaced by the full spec catalog)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class PermissionDef:
    code: str
    area: str
    description: str


_DEFS = (
    PermissionDef("user.read", "users", "See users."),
    PermissionDef("ops.runs.read", "operations", "See background runs."),
    PermissionDef("ops.runs.manage", "operations", "Requeue background runs."),
)
PERMISSIONS: Final[Mapping[str, PermissionDef]] = {d.code: d for d in _DEFS}
ROLE_TEMPLATES: Final[Mapping[str, frozenset[str]]] = {
    "super_admin": frozenset(PERMISSIONS),
    "admin": frozenset(PERMISSIONS),
    "sales_agent": frozenset({"user.read", "ops.runs.read"}),
}


def is_known_permission(code: str) -> bool:
    return code in PERMISSIONS
