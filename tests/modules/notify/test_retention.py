"""Inbox retention: entries older than 180 days are archived by the tenant's chain of
`notify.archive_inbox` runs, and no list shows them afterwards (DECISIONS §2.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.runs.worker import configure_worker_runtime
from m3crm.modules.notify import retention
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.models import InboxEntry
from tests.conftest import World
from tests.factories import make_tenant
from tests.harness import MigratedDatabase
from tests.modules.notify.helpers import inbox_entry

QUEUED = text(
    "SELECT scheduled_at FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo'"
)


async def without_queued_runs(session: AsyncSession, world: World) -> None:
    """Start from no queued run for `world.a` (inside the test's rolled-back transaction):
    other tests that commit inbox entries to the shared tenant start its chain."""
    lock = retention.archive_lock(world.a.id)
    await session.execute(
        text("DELETE FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo'"),
        {"lock": lock},
    )


async def queued_runs(session: AsyncSession, world: World) -> list[datetime | None]:
    lock = retention.archive_lock(world.a.id)
    return list((await session.execute(QUEUED, {"lock": lock})).scalars())


async def aged_entry(session: AsyncSession, world: World, age: timedelta) -> InboxEntry:
    entry = await inbox_entry(session, world.a, world.a.admin_id)
    entry.created_at = datetime.now(UTC) - age
    await session.flush()
    return entry


async def test_expired_entries_are_archived_and_hidden_and_the_next_run_queued(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await without_queued_runs(session, world)
    expired = await aged_entry(session, world, retention.INBOX_RETENTION + timedelta(days=1))
    kept = await aged_entry(session, world, retention.INBOX_RETENTION - timedelta(days=1))
    now = datetime.now(UTC)

    result = await retention.archive_expired(session, world.a.id, now=now)

    assert result["archived"] >= 1
    await session.refresh(expired)
    await session.refresh(kept)
    assert expired.archived_at is not None
    assert kept.archived_at is None
    # The next run is due when the oldest entry still shown expires: `kept`, in a day.
    [next_run] = await queued_runs(session, world)
    assert next_run is not None
    assert now < next_run <= kept.created_at + retention.INBOX_RETENTION
    for path in ("/v1/me/notifications", f"/v1/admin/notifications/{world.a.admin_id}"):
        listed = await client.get(path, headers=world.headers(world.a))
        assert listed.status_code == 200, listed.text
        ids = {item["id"] for item in listed.json()["items"]}
        assert str(kept.id) in ids
        assert str(expired.id) not in ids, path


async def test_a_run_with_nothing_left_queues_one_retention_period_ahead(
    session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    await without_queued_runs(session, world)
    await session.execute(text("UPDATE notifications_inbox SET archived_at = now()"))
    now = datetime.now(UTC)
    result = await retention.archive_expired(session, world.a.id, now=now)
    assert result == {
        "archived": 0,
        "next_run_at": (now + retention.INBOX_RETENTION).isoformat(),
    }
    assert await queued_runs(session, world) == [now + retention.INBOX_RETENTION]


async def test_writing_an_entry_starts_the_chain_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    await without_queued_runs(session, world)
    assert await queued_runs(session, world) == []
    for code in ("1", "2"):
        sent = await client.post(
            "/v1/notify/dispatch",
            json={
                "channel": "inbox",
                "family": "otp.verify_phone",
                "payload": otp_payload(code, expires_min=10, tenant_name="Alpha"),
                "recipient_user_id": str(world.a.admin_id),
            },
            headers=world.headers(world.a),
        )
        assert sent.status_code == 202, sent.text
    await bind_tenant(session, world.a.id, world.a.admin_id)
    assert len(await queued_runs(session, world)) == 1


async def test_the_queued_run_archives_in_its_tenants_transaction(
    database: Database, test_db: MigratedDatabase
) -> None:
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as owner, owner.begin():
        tenant = await make_tenant(owner, slug=f"keep-{uuid4().hex[:10]}", plan_code="DevPro")
    await engine.dispose()
    async with database.transaction(tenant.id, tenant.admin_id) as session:
        entry = await inbox_entry(session, tenant, tenant.admin_id)
        entry.created_at = datetime.now(UTC) - retention.INBOX_RETENTION - timedelta(hours=1)
    configure_worker_runtime(database)

    result = await retention.archive_inbox(str(tenant.id))

    assert result["archived"] == 1
    async with database.transaction(tenant.id) as session:
        stored = await session.get_one(InboxEntry, (tenant.id, entry.id))
        assert stored.archived_at is not None
        lock = retention.archive_lock(tenant.id)
        [next_run] = (await session.execute(QUEUED, {"lock": lock})).scalars()
    assert next_run is not None and next_run > datetime.now(UTC) + timedelta(days=179)
