"""The role tree as the Roles screen draws it: the hierarchy's edges turned into nested
nodes, roots first.

The hierarchy is acyclic (`AccessService.add_edge` refuses a cycle) but a role may sit
below several roles; it is then drawn under each of them, each time with the edge that
places it there (so "remove" acts on that link only). Roles in no edge are returned
apart, as "not placed". Siblings are ordered by role name, then code, so the drawing is
stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from m3crm.modules.access.models import Role, RoleHierarchy


@dataclass(frozen=True, slots=True)
class RoleNode:
    """`role` placed below its parent by `edge_id` (`None` for a root)."""

    role: Role
    edge_id: UUID | None
    children: list[RoleNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RoleForest:
    roots: list[RoleNode]
    unplaced: list[Role]


def _by_name(role: Role) -> tuple[str, str]:
    return (role.name.casefold(), role.code)


def build_forest(
    roles: Iterable[Role], edges: Sequence[tuple[RoleHierarchy, Role, Role]]
) -> RoleForest:
    """Nest `roles` by `edges` (parent above child). Defensive against a cycle that
    slipped past the service: a role already on the current path is not descended into
    again, so building always ends."""
    below: dict[UUID, list[tuple[RoleHierarchy, Role]]] = {}
    children: set[UUID] = set()
    for edge, parent, child in edges:
        below.setdefault(parent.id, []).append((edge, child))
        children.add(child.id)
    for placed in below.values():
        placed.sort(key=lambda pair: _by_name(pair[1]))

    def node(role: Role, edge_id: UUID | None, path: frozenset[UUID]) -> RoleNode:
        grown = RoleNode(role, edge_id)
        for edge, child in below.get(role.id, []):
            if child.id not in path:
                grown.children.append(node(child, edge.id, path | {child.id}))
        return grown

    ordered = sorted(roles, key=_by_name)
    roots = [
        node(role, None, frozenset({role.id}))
        for role in ordered
        if role.id in below and role.id not in children
    ]
    unplaced = [role for role in ordered if role.id not in below and role.id not in children]
    return RoleForest(roots, unplaced)
