"""The audit service writes in the caller's transaction, with the request context."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.auth import load_subject
from m3crm.kernel.context import RequestContext, set_request
from tests.conftest import World


def test_diff_keeps_only_changed_keys() -> None:
    before, after = audit.diff({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4})
    assert before == {"b": 2, "c": 3, "d": None}
    assert after == {"b": 5, "c": None, "d": 4}
    assert audit.diff(None, {"a": 1}) == (None, {"a": 1})


async def test_record_writes_actor_entity_diff_and_request_context(
    session: AsyncSession, world: World
) -> None:
    subject = await load_subject(session, world.a.id, world.a.admin_id)
    assert subject is not None
    set_request(RequestContext(request_id="req-1", ip="10.0.0.7", user_agent="pytest"))
    row = await audit.record(
        session,
        subject,
        "thing.renamed",
        audit.EntityRef("thing", "t-1"),
        before={"name": "old", "kept": 1},
        after={"name": "new", "kept": 1},
    )
    set_request(RequestContext())
    stored = (
        await session.execute(
            select(audit.AuditLog).where(
                audit.AuditLog.tenant_id == world.a.id, audit.AuditLog.id == row.id
            )
        )
    ).scalar_one()
    assert stored.actor_user_id == world.a.admin_id
    assert (stored.action, stored.entity_type, stored.entity_id) == (
        "thing.renamed",
        "thing",
        "t-1",
    )
    assert stored.before_data == {"name": "old"} and stored.after_data == {"name": "new"}
    assert (stored.request_id, stored.ip_address, stored.user_agent) == (
        "req-1",
        "10.0.0.7",
        "pytest",
    )
