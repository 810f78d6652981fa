"""Wiring of the notifications core into the kernel."""

from __future__ import annotations

from m3crm.kernel.runs.hooks import on_run_finished
from m3crm.modules.notify.run_notices import notify_initiator


def register() -> None:
    on_run_finished(notify_initiator)
