"""`/v1/admin/users`: list, read, edit (status transitions), deactivate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.identity.models import AuthSession
from tests.conftest import World, error_code
from tests.factories import bearer, make_user

URL = "/v1/admin/users"


async def new_user(
    session: AsyncSession,
    world: World,
    email: str,
    *,
    role: str | None = None,
    status: UserStatus = UserStatus.ACTIVE,
) -> UUID:
    await bind_tenant(session, world.a.id, None)
    return await make_user(session, tenant_id=world.a.id, email=email, role=role, status=status)


async def open_session(
    session: AsyncSession, world: World, user_id: UUID, *, user_agent: str | None = None
) -> UUID:
    await bind_tenant(session, world.a.id, None)
    now = datetime.now(UTC)
    row = AuthSession(
        tenant_id=world.a.id,
        user_id=user_id,
        user_agent=user_agent,
        expires_at=now + timedelta(days=1),
        absolute_expires_at=now + timedelta(days=2),
    )
    session.add(row)
    await session.flush()
    return row.id


async def audit(session: AsyncSession, world: World, action: str, entity: UUID) -> list[Any]:
    await bind_tenant(session, world.a.id, None)
    rows = await session.execute(
        text(
            "SELECT before_data, after_data FROM audit_logs WHERE tenant_id = :t"
            " AND action = :a AND entity_id = :e ORDER BY id"
        ),
        {"t": world.a.id, "a": action, "e": str(entity)},
    )
    return list(rows.all())


async def listed(client: httpx.AsyncClient, world: World, query: str = "") -> list[dict[str, Any]]:
    r = await client.get(f"{URL}?limit=200&{query}", headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def patch(client: httpx.AsyncClient, world: World, user_id: UUID, **body: Any) -> Any:
    return client.patch(f"{URL}/{user_id}", headers=world.headers(world.a), json=body)


async def test_list_with_roles_and_filters(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    staff = await new_user(session, world, "Zed.Staff@alpha.test", role="staff")
    gone = await new_user(session, world, "gone@alpha.test", status=UserStatus.SUSPENDED)
    everyone = {u["email"]: u for u in await listed(client, world)}
    assert everyone["admin@alpha.test"]["roles"] == ["admin"]
    assert everyone["member@alpha.test"]["roles"] == []
    assert not any(e.endswith("@bravo.test") for e in everyone)
    ids = lambda rows: {r["id"] for r in rows}  # noqa: E731
    # Other tests may have committed users to tenant A: check membership, not equality.
    by_role = await listed(client, world, "role=staff")
    assert str(staff) in ids(by_role) and all("staff" in u["roles"] for u in by_role)
    assert str(world.a.member_id) not in ids(by_role)
    by_status = await listed(client, world, "status=suspended")
    assert str(gone) in ids(by_status) and all(u["status"] == "suspended" for u in by_status)
    assert ids(await listed(client, world, "q=zED.sta")) == {str(staff)}
    assert str(world.a.agent_id) in ids(await listed(client, world, "q=%D9%88%D9%83%D9%8A%D9%84"))
    assert await listed(client, world, "q=%25") == []  # `%` is literal
    assert await listed(client, world, "role=nobody") == []


async def test_seek_pagination(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    for i in range(5):
        await new_user(session, world, f"page{i}@alpha.test")
    seen: list[str] = []
    cursor = None
    while True:
        url = f"{URL}?limit=2&q=page" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=world.headers(world.a))).json()
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len(set(seen))


async def test_get_user_and_other_tenant_is_404(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(f"{URL}/{world.a.agent_id}", headers=world.headers(world.a))
    assert r.status_code == 200 and r.json()["roles"] == ["sales_manager"]
    assert r.json()["locale"] == "ar"
    for method in ("GET", "PATCH", "DELETE"):
        r = await client.request(
            method, f"{URL}/{world.b.member_id}", headers=world.headers(world.a), json={}
        )
        assert r.status_code == 404, method


async def test_patch_profile_is_audited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "prof@alpha.test")
    r = await patch(client, world, user, full_name="Nour Hassan", locale="ar")
    assert r.status_code == 200
    assert r.json()["full_name"] == "Nour Hassan" and r.json()["locale"] == "ar"
    rows = await audit(session, world, "user.updated", user)
    assert rows[-1].before_data == {"full_name": "prof@alpha.test", "locale": "en"}
    assert rows[-1].after_data == {"full_name": "Nour Hassan", "locale": "ar"}
    r = await patch(client, world, user, full_name="Nour Hassan")
    assert r.status_code == 200 and len(await audit(session, world, "user.updated", user)) == 1


async def test_suspend_revokes_sessions_and_reinstate(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "susp@alpha.test")
    first = await open_session(session, world, user)
    second = await open_session(session, world, user)
    r = await patch(client, world, user, status="suspended")
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    await bind_tenant(session, world.a.id, None)
    revoked = await session.execute(
        text(
            "SELECT revoked_at, revoked_reason FROM sessions WHERE tenant_id = :t AND id IN (:a, :b)"
        ),
        {"t": world.a.id, "a": first, "b": second},
    )
    rows = revoked.all()
    assert len(rows) == 2
    assert all(r.revoked_at is not None and r.revoked_reason == "user_suspended" for r in rows)
    assert (await audit(session, world, "user.suspended", user))[-1].after_data == {
        "status": "suspended"
    }
    # A suspended user's token no longer works.
    r = await client.get("/v1/admin/roles", headers=bearer(world.settings, world.a.id, user))
    assert r.status_code == 401
    r = await patch(client, world, user, status="active")
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert (await audit(session, world, "user.reinstated", user))[-1].before_data == {
        "status": "suspended"
    }


async def test_delete_deactivates_and_keeps_the_row(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "bye@alpha.test", role="staff")
    await open_session(session, world, user)
    r = await client.delete(f"{URL}/{user}", headers=world.headers(world.a))
    assert r.status_code == 200 and r.json()["status"] == "deactivated"
    assert r.json()["roles"] == ["staff"]
    assert (await audit(session, world, "user.deactivated", user))[-1].after_data == {
        "status": "deactivated"
    }
    await bind_tenant(session, world.a.id, None)
    open_sessions = await session.execute(
        text(
            "SELECT count(*) FROM sessions WHERE tenant_id = :t AND user_id = :u AND revoked_at IS NULL"
        ),
        {"t": world.a.id, "u": user},
    )
    assert open_sessions.scalar_one() == 0
    r = await client.get(f"{URL}/{user}", headers=world.headers(world.a))
    assert r.status_code == 200 and r.json()["status"] == "deactivated"
    # Deactivated → suspended is not a transition; deactivated → active reinstates.
    r = await patch(client, world, user, status="suspended")
    assert r.status_code == 409 and error_code(r) == "INVALID_TRANSITION"
    r = await patch(client, world, user, status="active")
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert await audit(session, world, "user.reinstated", user)


async def test_cannot_suspend_or_deactivate_oneself(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await patch(client, world, world.a.admin_id, status="suspended")
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    r = await client.delete(f"{URL}/{world.a.admin_id}", headers=world.headers(world.a))
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    r = await patch(client, world, world.a.admin_id, full_name="Still Me")
    assert r.status_code == 200


async def test_cannot_suspend_the_last_super_admin(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    boss = await new_user(session, world, "boss@alpha.test", role="super_admin")
    r = await patch(client, world, boss, status="suspended")
    assert r.status_code == 409 and error_code(r) == "CONFLICT"


async def test_reinstating_beyond_seats_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.b.id, None)
    gone = await make_user(
        session, tenant_id=world.b.id, email="gone@bravo.test", status=UserStatus.DEACTIVATED
    )
    # DevFree allows 3 seats; B has admin, agent and member.
    r = await client.patch(
        f"{URL}/{gone}", headers=world.headers(world.b), json={"status": "active"}
    )
    assert r.status_code == 422 and error_code(r) == "LIMIT_REACHED"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "deleted"},
        {"full_name": ""},
        {"full_name": "x" * 201},
        {"locale": "fr"},
        {"email": "new@alpha.test"},
        {"full_name": "bad\u0000name"},
    ],
)
async def test_bad_patch_is_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    r = await patch(client, world, world.a.member_id, **body)
    assert r.status_code == 422


@pytest.mark.parametrize(
    "query", ["status=gone", "role=Bad%20Role", "limit=0", "cursor=x", "q=%00"]
)
async def test_bad_list_filters_are_422(
    client: httpx.AsyncClient, world: World, query: str
) -> None:
    r = await client.get(f"{URL}?{query}", headers=world.headers(world.a))
    assert r.status_code == 422


async def test_anonymous_401_and_missing_permission_403(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.delete(f"{URL}/{world.a.member_id}")).status_code == 401
    r = await client.get(URL, headers=world.headers(world.a, "member"))
    assert r.status_code == 403 and error_code(r) == "PERMISSION_DENIED"
    # The sales manager may read users but not change them.
    assert (await client.get(URL, headers=world.headers(world.a, "agent"))).status_code == 200
    r = await client.patch(
        f"{URL}/{world.a.member_id}",
        headers=world.headers(world.a, "agent"),
        json={"status": "suspended"},
    )
    assert r.status_code == 403
    r = await client.delete(f"{URL}/{world.a.member_id}", headers=world.headers(world.a, "agent"))
    assert r.status_code == 403
