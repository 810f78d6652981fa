"""User lifecycle endpoints (spec §12.2, §12.5) and ownership hand-over (DECISIONS §12.4)."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.contacts.models import Company, Contact
from m3crm.modules.identity.models import AuthSession
from tests.conftest import World, error_code
from tests.modules.contacts.helpers import make_company, make_contact
from tests.modules.identity.test_users_admin import audit, new_user, open_session

URL = "/v1/admin/users"


async def test_suspend_ends_sessions_and_reinstate(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "sus@alpha.test", role="sales_agent")
    sid = await open_session(session, world, user)
    h = world.headers(world.a)
    r = await client.post(f"{URL}/{user}/suspend", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    await bind_tenant(session, world.a.id, None)
    revoked = select(AuthSession.revoked_at).where(AuthSession.id == sid)
    assert (await session.execute(revoked)).scalar_one() is not None
    r = await client.post(f"{URL}/{user}/suspend", headers=h)
    assert r.status_code == 409 and error_code(r) == "INVALID_TRANSITION"
    r = await client.post(f"{URL}/{user}/reinstate", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert [tuple(x) for x in await audit(session, world, "user.reinstated", user)] == [
        ({"status": "suspended"}, {"status": "active"})
    ]


async def test_force_logout_and_reset_password(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "fl@alpha.test", role="sales_agent")
    await open_session(session, world, user)
    h = world.headers(world.a)
    r = await client.post(f"{URL}/{user}/force-logout", headers=h)
    assert r.status_code == 200 and r.json() == {"sessions_ended": 1}
    assert await audit(session, world, "user.force_logout", user)
    r = await client.post(f"{URL}/{user}/reset-password", headers=h)
    assert r.status_code == 204
    assert await audit(session, world, "auth.password_reset.requested", user)


async def test_lifecycle_refusals(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "ref@alpha.test", role="sales_agent")
    r = await client.post(f"{URL}/{user}/suspend")
    assert r.status_code == 401
    r = await client.post(f"{URL}/{user}/suspend", headers=world.headers(world.a, "member"))
    assert r.status_code == 403
    for action in ("suspend", "deactivate", "reinstate", "force-logout", "reset-password"):
        r = await client.post(f"{URL}/{world.b.member_id}/{action}", headers=world.headers(world.a))
        assert r.status_code == 404, action
        r = await client.post(f"{URL}/{uuid4()}/{action}", headers=world.headers(world.a))
        assert r.status_code == 404, action
    r = await client.post(f"{URL}/{user}/reinstate", headers=world.headers(world.a))
    assert r.status_code == 409 and error_code(r) == "INVALID_TRANSITION"


async def _owned(session: AsyncSession, world: World, owner: UUID) -> tuple[UUID, UUID]:
    contact = await make_contact(session, world.a, owner_id=owner)
    company = await make_company(session, world.a, owner_id=owner)
    return contact.id, company.id


async def test_deactivation_of_an_owner_needs_a_new_owner(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "own@alpha.test", role="sales_agent")
    heir = await new_user(session, world, "heir@alpha.test", role="sales_agent")
    contact_id, company_id = await _owned(session, world, user)
    h = world.headers(world.a)
    r = await client.post(f"{URL}/{user}/deactivate", headers=h)
    assert r.status_code == 409 and error_code(r) == "CONFLICT"
    assert r.json()["error"]["details"]["owned"] == {"contact": 1, "company": 1}
    r = await client.patch(f"{URL}/{user}", headers=h, json={"status": "deactivated"})
    assert r.status_code == 409 and r.json()["error"]["details"]["owned"]["contact"] == 1
    for bad in (user, uuid4(), world.b.admin_id):
        r = await client.post(f"{URL}/{user}/deactivate", headers=h, json={"reassign_to": str(bad)})
        assert r.status_code == 422, bad
    r = await client.post(f"{URL}/{user}/deactivate", headers=h, json={"reassign_to": str(heir)})
    assert r.status_code == 200 and r.json()["status"] == "deactivated"
    await bind_tenant(session, world.a.id, None)
    owner = select(Contact.owner_user_id).where(Contact.id == contact_id)
    assert (await session.execute(owner)).scalar_one() == heir
    owner = select(Company.owner_user_id).where(Company.id == company_id)
    assert (await session.execute(owner)).scalar_one() == heir
    assert await audit(session, world, "user.records.reassigned", user)
    assert await audit(session, world, "contact.updated", contact_id)


async def test_suspend_may_hand_records_over(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "own2@alpha.test", role="sales_agent")
    contact_id, _ = await _owned(session, world, user)
    r = await client.post(f"{URL}/{user}/suspend", headers=world.headers(world.a))
    assert r.status_code == 200  # suspending keeps the records when no new owner is given
    r = await client.post(
        f"{URL}/{user}/deactivate",
        headers=world.headers(world.a),
        json={"reassign_to": str(world.a.admin_id)},
    )
    assert r.status_code == 200
    await bind_tenant(session, world.a.id, None)
    owner = select(Contact.owner_user_id).where(Contact.id == contact_id)
    assert (await session.execute(owner)).scalar_one() == world.a.admin_id
    assert UserStatus(r.json()["status"]) == UserStatus.DEACTIVATED
