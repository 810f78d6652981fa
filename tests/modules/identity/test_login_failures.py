"""Failed sign-ins: counted per account only when no workspace matched, audited
(`auth.login.failed`, `auth.login.locked`), over committed data."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.session import Database
from tests.modules.identity.test_auth import PASSWORD, api, sign_up, slug  # noqa: F401

OTHER_PASSWORD = "cedar-harbour-9921"


async def audit_rows(database: Database, tenant: UUID, action: str) -> list[AuditLog]:
    async with database.transaction(tenant) as session:
        query = select(AuditLog).where(AuditLog.action == action)
        rows = await session.execute(query.order_by(AuditLog.occurred_at))
        return list(rows.scalars())


async def test_signing_in_to_one_workspace_never_locks_another(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email = f"dual-{uuid4().hex[:8]}@example.com"
    first, second = slug(), slug()
    assert (await sign_up(api, email=email, workspace=first)).status_code == 201
    made = await sign_up(api, email=email, workspace=second, password=OTHER_PASSWORD)
    assert made.status_code == 201
    for _ in range(6):
        ok = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert ok.status_code == 200, ok.text
    other = await api.post(
        "/v1/auth/login", json={"email": email, "password": OTHER_PASSWORD, "workspace": second}
    )
    assert other.status_code == 200, other.text
    tenant = UUID(made.json()["tenant_id"])
    assert await audit_rows(database, tenant, "auth.login.failed") == []


async def test_a_password_matching_nowhere_counts_everywhere(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email = f"dual-{uuid4().hex[:8]}@example.com"
    made = [
        await sign_up(api, email=email, workspace=slug()),
        await sign_up(api, email=email, workspace=slug(), password=OTHER_PASSWORD),
    ]
    wrong = await api.post("/v1/auth/login", json={"email": email, "password": "nope-nope-1"})
    assert wrong.status_code == 401
    for response in made:
        tenant = UUID(response.json()["tenant_id"])
        rows = await audit_rows(database, tenant, "auth.login.failed")
        assert [r.after_data["locked"] for r in rows if r.after_data] == [False]


async def test_failures_and_the_lockout_are_audited(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    email = f"lock-{uuid4().hex[:8]}@example.com"
    tenant = UUID((await sign_up(api, email=email)).json()["tenant_id"])
    for _ in range(5):
        await api.post("/v1/auth/login", json={"email": email, "password": "nope-nope-1"})
    locked = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 401
    failed = await audit_rows(database, tenant, "auth.login.failed")
    assert [r.after_data["locked"] for r in failed if r.after_data] == [False] * 5 + [True]
    lock = await audit_rows(database, tenant, "auth.login.locked")
    assert len(lock) == 1 and lock[0].after_data and "until" in lock[0].after_data
