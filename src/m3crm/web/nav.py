"""The main navigation: items that modules register, filtered per visitor.

A module adds its screens in its `service.register()`; a page shows only the items whose
permission the signed-in user holds (the URLs themselves refuse the others: 403). Items
are ordered by `order`, then by id, so the menu is stable whatever the load order.
"""

from __future__ import annotations

from dataclasses import dataclass

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.permissions import ensure_known


@dataclass(frozen=True, slots=True)
class NavItem:
    """`label` is an English msgid (marked with `N_`); templates translate it.
    `badge_url`, when set, answers a small partial (e.g. an unread count) that the header
    polls every 30 seconds, so the count moves without a reload."""

    id: str
    label: str
    path: str
    permission: str
    order: int = 100
    badge_url: str | None = None


_items: dict[str, NavItem] = {}


def register_nav(item: NavItem) -> None:
    """Add (or replace, for idempotent wiring) a navigation item."""
    ensure_known(item.permission)
    _items[item.id] = item


def visible_nav(subject: AuthSubject | None) -> list[NavItem]:
    if subject is None:
        return []
    items = [item for item in _items.values() if subject.can(item.permission)]
    return sorted(items, key=lambda item: (item.order, item.id))
