"""Run handlers by type. Modules register theirs with `@run_handler(...)` at import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from m3crm.kernel.permissions import ensure_known

if TYPE_CHECKING:
    from m3crm.kernel.runs.context import RunContext

HandlerFn = Callable[["RunContext"], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class RunHandler:
    """`permission` (and `feature`, when set) are re-checked when the run executes."""

    type: str
    fn: HandlerFn
    permission: str
    feature: str | None = None


_handlers: dict[str, RunHandler] = {}


def run_handler(
    type: str, *, permission: str, feature: str | None = None
) -> Callable[[HandlerFn], HandlerFn]:
    """Register `fn` as the handler of runs of `type` ("module.verb")."""
    ensure_known(permission)

    def decorate(fn: HandlerFn) -> HandlerFn:
        if type in _handlers and _handlers[type].fn is not fn:
            raise ValueError(f"run type {type!r} already has a handler")
        _handlers[type] = RunHandler(type=type, fn=fn, permission=permission, feature=feature)
        return fn

    return decorate


def get_handler(type: str) -> RunHandler | None:
    return _handlers.get(type)


def run_types() -> list[str]:
    """Every registered run type, sorted (the Monitoring screen's type filter)."""
    return sorted(_handlers)
