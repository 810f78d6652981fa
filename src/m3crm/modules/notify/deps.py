"""Request-scoped access to the process's `Notifier` and delivery settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from m3crm.modules.notify.dispatch import Notifier
from m3crm.modules.notify.throttle import Throttle


async def get_notifier(request: Request) -> Notifier:
    """One `Notifier` per app, sharing the app's rate-limit storage."""
    state = request.app.state
    notifier: Notifier | None = getattr(state, "notifier", None)
    if notifier is None:
        notifier = Notifier(Throttle(state.limiter))
        state.notifier = notifier
    return notifier


NotifierDep = Annotated[Notifier, Depends(get_notifier)]
