"""The role tree drawing: nesting, roles below several roles, unplaced roles, order."""

from __future__ import annotations

from m3crm.kernel.ids import new_id
from m3crm.modules.access.models import Role, RoleHierarchy
from m3crm.modules.access.role_tree import RoleNode, build_forest


def role(code: str) -> Role:
    return Role(id=new_id(), code=code, name=code.replace("_", " ").title())


def edge(parent: Role, child: Role) -> tuple[RoleHierarchy, Role, Role]:
    return (
        RoleHierarchy(id=new_id(), parent_role_id=parent.id, child_role_id=child.id),
        parent,
        child,
    )


def shape(nodes: list[RoleNode]) -> list[object]:
    return [(n.role.code, shape(n.children)) if n.children else n.role.code for n in nodes]


def test_nesting_shared_children_and_unplaced_roles() -> None:
    director, manager, lead, agent, finance, viewer = (
        role(c)
        for c in ("director", "sales_manager", "team_lead", "sales_agent", "finance", "viewer")
    )
    edges = [
        edge(manager, lead),
        edge(director, manager),
        edge(lead, agent),
        edge(finance, agent),  # the agent reports to two roles
    ]
    forest = build_forest([viewer, agent, lead, manager, director, finance], edges)
    assert shape(forest.roots) == [
        ("director", [("sales_manager", [("team_lead", ["sales_agent"])])]),
        ("finance", ["sales_agent"]),
    ]
    assert [r.code for r in forest.unplaced] == ["viewer"]
    under_finance = forest.roots[1].children[0]
    assert under_finance.edge_id == edges[3][0].id and forest.roots[0].edge_id is None


def test_a_cycle_that_slipped_through_still_ends() -> None:
    a, b, c = role("a"), role("b"), role("c")
    forest = build_forest([a, b, c], [edge(c, a), edge(a, b), edge(b, a)])
    assert shape(forest.roots) == [("c", [("a", ["b"])])]
