"""What happens when a run ends (ARCHITECTURE §2.8: "the initiator is notified at the end").

The kernel only announces the end, in the transaction that records it; the notifications
module registers the listener that tells the initiator (an inbox entry). Without a
listener (kernel tests) nothing is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.runs.models import OperationRun

RunFinished = Callable[[AsyncSession, OperationRun], Awaitable[None]]

_listeners: list[RunFinished] = []


def on_run_finished(listener: RunFinished) -> None:
    """Register `listener` once (module wiring is idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


async def run_finished(session: AsyncSession, run: OperationRun) -> None:
    for listener in _listeners:
        await listener(session, run)
