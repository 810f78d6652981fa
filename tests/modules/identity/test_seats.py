"""Seats (DECISIONS §12.2): `GET /v1/admin/seats`, viewer-only users, the last-seat race."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.errors import LimitReached
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.kernel.tenancy.service import create_user
from m3crm.modules.identity import seats
from m3crm.modules.notify.models import OutboxMessage
from tests.conftest import World
from tests.factories import make_tenant, make_user
from tests.harness import MigratedDatabase
from tests.modules.identity.test_users_admin import new_user
from tests.web.test_pages import cookie


async def user_id_of(session: AsyncSession, world: World, email: str) -> UUID:
    await bind_tenant(session, world.a.id, None)
    found = await session.scalar(
        select(User.id).where(User.tenant_id == world.a.id, User.email == email)
    )
    assert found is not None
    return found


async def test_seat_usage_and_viewer_rule(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    h = world.headers(world.a)
    before = (await client.get("/v1/admin/seats", headers=h)).json()
    assert set(before) == {"used", "allowed", "breakdown"}
    assert before["breakdown"]["by_group"] == {} and before["allowed"] == 25
    await new_user(session, world, "viewer@alpha.test", role="viewer")
    after = (await client.get("/v1/admin/seats", headers=h)).json()
    assert after["used"] == before["used"]  # a viewer-only user holds no seat
    await new_user(session, world, "agent2@alpha.test", role="sales_agent")
    after = (await client.get("/v1/admin/seats", headers=h)).json()
    assert after["used"] == before["used"] + 1
    assert after["breakdown"]["by_role"]["sales_agent"] >= 1
    team = await client.post(
        "/v1/admin/groups", json={"code": "seat_team", "name": "Seat team"}, headers=h
    )
    assert team.status_code == 201, team.text
    viewer_id = await user_id_of(session, world, "viewer@alpha.test")
    agent_id = await user_id_of(session, world, "agent2@alpha.test")
    added = await client.post(
        f"/v1/admin/groups/{team.json()['id']}/members",
        json={"user_ids": [str(viewer_id), str(agent_id)]},
        headers=h,
    )
    assert added.status_code in (200, 201), added.text
    grouped = (await client.get("/v1/admin/seats", headers=h)).json()
    assert grouped["breakdown"]["by_group"] == {"seat_team": 1}  # the viewer holds no seat
    assert (await client.get("/v1/admin/seats")).status_code == 401
    r = await client.get("/v1/admin/seats", headers=world.headers(world.a, "member"))
    assert r.status_code == 403


async def test_deactivated_viewer_is_reinstated_without_a_seat(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    # DevFree: 3 seats, all taken by B's admin, agent and member.
    from m3crm.kernel.db.session import bind_tenant

    await bind_tenant(session, world.b.id, None)
    gone = await make_user(
        session, tenant_id=world.b.id, email="v@bravo.test", role="viewer",
        status=UserStatus.DEACTIVATED,
    )  # fmt: skip
    r = await client.post(f"/v1/admin/users/{gone}/reinstate", headers=world.headers(world.b))
    assert r.status_code == 200


async def test_two_concurrent_claims_for_the_last_seat(
    test_db: MigratedDatabase, database: Database
) -> None:
    owner = create_async_engine(test_db.urls.owner)
    slug = f"race{uuid4().hex[:8]}"
    async with AsyncSession(owner) as s, s.begin():
        tenant = await make_tenant(s, slug=slug, plan_code="DevFree")
        pass  # admin, agent, member: 3 users, 3 seats
    async with AsyncSession(owner) as s, s.begin():
        from sqlalchemy import update

        from m3crm.kernel.tenancy.models import User

        await s.execute(
            update(User).where(User.id.in_([tenant.member_id]))
            .values(status=UserStatus.DEACTIVATED)
        )  # fmt: skip
    await owner.dispose()

    async def claim(n: int) -> bool:
        try:
            async with database.transaction(tenant.id) as s:
                await seats.require_seat(s, tenant.id)
                await asyncio.sleep(0.3)  # the other claim runs meanwhile
                await create_user(
                    s, tenant_id=tenant.id, email=f"n{n}@{slug}.test", full_name=f"N{n}"
                )
            return True
        except LimitReached:
            return False

    # Admin and agent hold two of three seats (the member is deactivated): one is free.
    wins = await asyncio.gather(claim(1), claim(2))
    assert sorted(wins) == [False, True]


async def test_people_page_shows_seats_to_those_who_may_see_them(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = await client.get("/admin/users", headers=cookie(world))
    assert admin.status_code == 200 and 'data-testid="seats"' in admin.text
    assert 'aria-valuemax="25"' in admin.text


async def test_a_refused_seat_is_told_to_the_admins_by_mail_and_inbox(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    """Bravo (DevFree, three seats) is full: the refusal stands (422) and, in a
    transaction of its own, every admin gets one e-mail and one inbox entry a day."""
    for attempt in ("fourth@bravo.test", "fifth@bravo.test"):
        refused = await client.post(
            "/v1/admin/users/invite",
            json={"email": attempt, "roles": ["staff"]},
            headers=world.headers(world.b),
        )
        assert refused.status_code == 422
    async with database.transaction(world.b.id) as own:
        rows = (
            await own.execute(
                select(OutboxMessage.channel).where(
                    OutboxMessage.family == seats.LIMIT_FAMILY,
                    OutboxMessage.recipient_user_id == world.b.admin_id,
                )
            )
        ).scalars()
        assert sorted(c.value for c in rows) == ["email", "inbox"]


async def seat_refusals(database: Database, world: World) -> int:
    """`tenant.seat.limit_reached` rows of Bravo (written in transactions of their own)."""
    async with database.transaction(world.b.id) as own:
        found = await own.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == seats.LIMIT_ACTION)
        )
    return int(found or 0)


async def test_a_role_that_would_take_a_seat_beyond_the_limit_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, world: World
) -> None:
    """Bravo (DevFree, three seats) is full. A viewer holds no seat; giving them a paid
    role — directly or through a group — would take a fourth: 422, and nothing changes.
    A role for someone who already holds a seat costs nothing more."""
    h = world.headers(world.b)
    await bind_tenant(session, world.b.id, None)
    viewer = await make_user(session, tenant_id=world.b.id, email="v@bravo.test", role="viewer")
    before = (await client.get("/v1/admin/seats", headers=h)).json()
    assert before["used"] == before["allowed"] == 3
    plan = (await client.get("/v1/admin/plan", headers=h)).json()
    seats_row = next(x for x in plan["limits"] if x["key"] == "users.max")
    assert seats_row["usage"] == 3  # the plan screen counts seats as the seats screen does

    reported = await seat_refusals(database, world)
    direct = await client.post(
        f"/v1/admin/users/{viewer}/roles", json={"assign": ["staff"]}, headers=h
    )
    assert direct.status_code == 422 and direct.json()["error"]["code"] == "LIMIT_REACHED"
    assert await seat_refusals(database, world) == reported + 1  # audited, admins told
    roles = await client.get(f"/v1/admin/users/{viewer}", headers=h)
    assert roles.json()["roles"] == ["viewer"]

    team = await client.post("/v1/admin/groups", json={"code": "paid", "name": "Paid"}, headers=h)
    group = team.json()["id"]
    given = await client.put(
        f"/v1/admin/groups/{group}/roles", json={"roles": ["staff"]}, headers=h
    )
    assert given.status_code == 200, given.text
    joined = await client.post(
        f"/v1/admin/groups/{group}/members", json={"user_ids": [str(viewer)]}, headers=h
    )
    assert joined.status_code == 422 and joined.json()["error"]["code"] == "LIMIT_REACHED"

    more = await client.post(
        f"/v1/admin/users/{world.b.member_id}/roles", json={"assign": ["sales_agent"]}, headers=h
    )
    assert more.status_code == 200, more.text
    after = (await client.get("/v1/admin/seats", headers=h)).json()
    assert after["used"] == 3
