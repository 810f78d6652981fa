"""The OperationRun state machine: one function moves a run, or answers 409."""

from __future__ import annotations

from m3crm.kernel.errors import InvalidTransition
from m3crm.kernel.runs.models import TRANSITIONS, OperationRun, RunStatus


def transition(run: OperationRun, target: RunStatus) -> None:
    if target not in TRANSITIONS[run.status]:
        raise InvalidTransition("operation_run", run.status.value, target.value)
    run.status = target
