"""Command palette actions: go to a screen, create a record, open a setting.

Every visible nav item is a "go to" command by itself; modules register the others
(`register_command`) in their `service.register()`. A command is offered only when the
user holds its permission and the plan has its feature, so the palette never proposes an
action that would be refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.i18n import N_
from m3crm.web.nav import NavEntry, Permission, ensure_known_permission, holds

Kind = Literal["navigate", "create", "settings"]

KIND_LABELS: dict[Kind, str] = {
    "navigate": N_("Go to"),
    "create": N_("Create"),
    "settings": N_("Settings"),
}


@dataclass(frozen=True, slots=True)
class Command:
    """`label` is an English msgid (marked with `N_`); `path` is where the action lives;
    `permission` None means any signed-in user (their own account pages)."""

    id: str
    label: str
    path: str
    permission: Permission
    kind: Kind
    icon: str = "dot"
    feature: str | None = None
    order: int = 100


_commands: dict[str, Command] = {}


def register_command(command: Command) -> None:
    """Add (or replace, for idempotent wiring) a palette command."""
    ensure_known_permission(command.permission)
    _commands[command.id] = command


def visible_commands(
    subject: AuthSubject, features: frozenset[str], nav: list[NavEntry]
) -> list[Command]:
    """What `subject` may do from the palette: create first, then go-to, then settings."""
    goto = [
        Command(
            f"go.{e.item.id}",
            e.item.label,
            e.item.path,
            e.item.permission,
            "navigate",
            e.item.icon,
            e.item.feature,
            e.item.order,
        )
        for e in nav
        if not e.locked
    ]
    own = [
        command
        for command in _commands.values()
        if holds(subject, command.permission)
        and (command.feature is None or command.feature in features)
    ]
    order = list(KIND_LABELS)
    return sorted(goto + own, key=lambda c: (order.index(c.kind), c.order, c.id))


def create_commands(commands: list[Command]) -> list[Command]:
    """The quick-create menu of the top bar."""
    return [command for command in commands if command.kind == "create"]
