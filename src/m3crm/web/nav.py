"""The main navigation: items that modules register, resolved per visitor.

A module adds its screens in its `service.register()`. A page shows the items whose
permission the signed-in user holds; an item whose plan feature the tenant lacks is shown
locked (its screen answers 402 with an "ask for an upgrade" button: a module's pages guard
their feature with `require_feature`, as they guard permissions with `require`).
Items are grouped by `section` and ordered by `order`, then id, so the menu is stable
whatever the load order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.i18n import N_
from m3crm.kernel.permissions import ensure_known

Section = Literal["work", "admin", "operations"]

SECTION_LABELS: dict[Section, str] = {
    "work": N_("Workspace"),
    "admin": N_("Administration"),
    "operations": N_("Operations"),
}


Permission = str | tuple[str, ...] | None
"""What opens an item: None (every signed-in user), one code, or any one of several."""


@dataclass(frozen=True, slots=True)
class NavItem:
    """`label` is an English msgid (marked with `N_`); templates translate it. `permission`
    None means every signed-in user; a tuple means any one of those codes. `icon` names
    a symbol of `web/templates/_icons.html`. `badge_url`, when set, answers a small partial
    (e.g. an unread count) that the shell polls, so the count moves without a reload."""

    id: str
    label: str
    path: str
    permission: Permission
    icon: str = "dot"
    section: Section = "work"
    feature: str | None = None
    order: int = 100
    badge_url: str | None = None


@dataclass(frozen=True, slots=True)
class NavEntry:
    """An item as one visitor sees it: `locked` when the plan lacks its feature."""

    item: NavItem
    locked: bool


_items: dict[str, NavItem] = {}


def register_nav(item: NavItem) -> None:
    """Add (or replace, for idempotent wiring) a navigation item."""
    ensure_known_permission(item.permission)
    _items[item.id] = item


def _codes(permission: Permission) -> tuple[str, ...]:
    if permission is None:
        return ()
    return (permission,) if isinstance(permission, str) else permission


def ensure_known_permission(permission: Permission) -> None:
    for code in _codes(permission):
        ensure_known(code)


def holds(subject: AuthSubject, permission: Permission) -> bool:
    """Whether `subject` may open what `permission` guards."""
    return permission is None or any(subject.can(code) for code in _codes(permission))


def unregister_nav(item_id: str) -> None:
    """Remove an item (tests that register a temporary screen clean up with this)."""
    _items.pop(item_id, None)


def visible_nav(subject: AuthSubject | None, features: frozenset[str]) -> list[NavEntry]:
    """The items `subject` may use, in menu order; plan-gated ones marked locked."""
    if subject is None:
        return []
    items = sorted(
        (item for item in _items.values() if holds(subject, item.permission)),
        key=lambda item: (list(SECTION_LABELS).index(item.section), item.order, item.id),
    )
    return [
        NavEntry(item, locked=item.feature is not None and item.feature not in features)
        for item in items
    ]


def nav_sections(entries: list[NavEntry]) -> list[tuple[str, list[NavEntry]]]:
    """`entries` grouped by section (label msgid, entries), empty sections left out."""
    grouped: dict[Section, list[NavEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.item.section, []).append(entry)
    return [(SECTION_LABELS[section], grouped[section]) for section in grouped]
