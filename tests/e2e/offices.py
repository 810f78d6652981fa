"""A DevPro workspace with one extra person, for browser flows about administration.
Made on a thread of its own: Playwright's event loop may already run on this one."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.db.session import bind_tenant
from tests.factories import SeededTenant, make_tenant, make_user
from tests.harness import MigratedDatabase


@dataclass(frozen=True)
class Office:
    tenant: SeededTenant
    person: UUID


async def _make_office(test_db: MigratedDatabase, prefix: str, email: str) -> Office:
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug=f"{prefix}-{uuid4().hex[:8]}", plan_code="DevPro")
        await bind_tenant(session, tenant.id, None)
        person = await make_user(session, tenant_id=tenant.id, email=email, role="staff")
    await engine.dispose()
    return Office(tenant, person)


def make_office(test_db: MigratedDatabase, *, prefix: str, email: str) -> Office:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _make_office(test_db, prefix, email)).result()
