"""The initiator of an OperationRun hears how it ended (ARCHITECTURE §2.8)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.runs import hooks
from m3crm.kernel.runs.models import OperationRun, RunStatus
from m3crm.modules.notify.models import InboxEntry, Severity
from m3crm.modules.notify.run_notices import notify_initiator
from tests.conftest import World


async def test_the_worker_announces_run_ends_to_the_notifier(database: object) -> None:
    assert notify_initiator in hooks._listeners


async def test_initiator_gets_one_inbox_entry_in_their_language(
    session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, world.a.agent_id)
    run = OperationRun(
        tenant_id=world.a.id,
        type="contacts.import_csv",
        status=RunStatus.FAILED,
        permission="ops.runs.read",
        initiator_user_id=world.a.agent_id,
        payload={},
        counts={},
        reason="row 12: the phone number is not valid",
    )
    session.add(run)
    await session.flush()
    await notify_initiator(session, run)
    await notify_initiator(session, run)  # a retried finish notifies once
    entries = (
        (
            await session.execute(
                select(InboxEntry).where(InboxEntry.recipient_user_id == world.a.agent_id)
            )
        )
        .scalars()
        .all()
    )
    mine = [e for e in entries if "contacts.import_csv" in e.body]
    assert len(mine) == 1
    entry = mine[0]
    assert entry.severity is Severity.ERROR
    assert entry.title == "عمل في الخلفية: فشل"  # the agent reads Arabic, status included
    assert entry.link_url == "/monitoring/runs?status=failed"
    assert "row 12" in entry.body
