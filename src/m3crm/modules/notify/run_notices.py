"""Tell a run's initiator that it ended: an inbox entry linking to the Monitoring screen."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.ids import TenantId
from m3crm.kernel.runs.models import OperationRun, RunStatus
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel, InboxCategory, Severity
from m3crm.modules.notify.throttle import NoThrottle

FAMILY = "ops.run_finished"
_SEVERITY = {
    RunStatus.SUCCEEDED: Severity.SUCCESS,
    RunStatus.FAILED: Severity.ERROR,
    RunStatus.DENIED: Severity.WARNING,
}


async def notify_initiator(session: AsyncSession, run: OperationRun) -> None:
    """Inbox only (no e-mail/SMS for routine work); idempotent per run and status."""
    await Notifier(NoThrottle()).dispatch(
        session,
        SystemActor(TenantId(run.tenant_id)),
        DispatchRequest(
            channel=Channel.INBOX,
            family=FAMILY,
            payload={"type": run.type, "status": run.status.value, "reason": run.reason or ""},
            recipient_user_id=run.initiator_user_id,
            correlation_key=f"run-finished:{run.id}:{run.status.value}",
            link_url=f"/monitoring/runs?status={run.status.value}",
            category=InboxCategory.SYSTEM,
            severity=_SEVERITY.get(run.status, Severity.INFO),
        ),
    )
