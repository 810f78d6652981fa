"""`POST /v1/admin/users` and the People screen's "New person" form: an administrator
creates a user, who chooses a password through the e-mailed link."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.modules.access.service import access
from m3crm.modules.notify.models import OutboxMessage
from m3crm.modules.plans.models import UsageCounter
from tests.conftest import World, error_code
from tests.modules.identity.test_auth import api, bearer, login_body, mail_link
from tests.modules.identity.test_users_admin import audit, listed
from tests.web.test_pages import cookie

__all__ = ["api"]  # the committing client fixture, shared with the sign-in tests

URL = "/v1/admin/users"
FORM = "/admin/users/new"
HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "desert-falcon-5521"


def person(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "full_name": "Laila Mansour", "roles": ["sales_agent"], **extra}


async def welcome_mails(session: AsyncSession, world: World, to: str) -> list[OutboxMessage]:
    await bind_tenant(session, world.a.id, None)
    stmt = select(OutboxMessage).where(
        OutboxMessage.family == "auth.welcome", OutboxMessage.to_address == to
    )
    return list((await session.execute(stmt)).scalars())


async def users_created(session: AsyncSession, world: World) -> int:
    await bind_tenant(session, world.a.id, None)
    stmt = select(UsageCounter.value).where(
        UsageCounter.tenant_id == world.a.id, UsageCounter.key == "users.created"
    )
    return int(sum((await session.execute(stmt)).scalars()))


async def test_admin_creates_a_user_who_gets_the_set_password_mail(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    counted = await users_created(session, world)
    body = person(
        "Laila.Mansour@Alpha.test", roles=["sales_agent", "staff"], locale="ar",
        job_title_code="broker", department_code="sales",
    )  # fmt: skip
    r = await client.post(URL, json=body, headers=world.headers(world.a))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["email"] == "laila.mansour@alpha.test"
    assert sorted(made["roles"]) == ["sales_agent", "staff"]
    assert (made["status"], made["locale"], made["is_verified"]) == ("active", "ar", False)
    assert made["email"] in {u["email"] for u in await listed(client, world)}
    profile = await client.get(f"{URL}/{made['id']}", headers=world.headers(world.a))
    assert profile.status_code == 200

    [mail] = await welcome_mails(session, world, made["email"])
    assert mail.locale == "ar"
    assert "/reset-password?token=" in mail.payload["set_password_url"]
    assert mail.payload["workspace"] == "Tenant alpha" and mail.payload["inviter"] == "Admin"
    [(before, after)] = await audit(session, world, "user.created", UUID(made["id"]))
    assert before is None
    assert after == {
        "email": "laila.mansour@alpha.test", "full_name": "Laila Mansour", "locale": "ar",
        "roles": ["sales_agent", "staff"], "job_title_code": "broker", "department_code": "sales",
    }  # fmt: skip
    assert await users_created(session, world) == counted + 1


async def test_the_language_defaults_to_the_workspace(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.post(URL, json=person("plain@alpha.test"), headers=world.headers(world.a))
    assert r.status_code == 201 and r.json()["locale"] == "en"


async def test_the_link_sets_the_password_verifies_the_mail_and_signs_in(
    api: httpx.AsyncClient, database: Database
) -> None:
    """Over committed data (sign-in runs in its own transactions): a fresh workspace."""
    admin = await login_body(api)
    tenant = UUID(admin["tenant_id"])
    verify = await mail_link(database, tenant, "auth.verify_email", "verify_url")
    await api.post("/v1/auth/verify-email", json={"token": verify})
    headers = bearer(admin["access_token"])
    made = await api.post(URL, json=person("karim@example.com"), headers=headers)
    assert made.status_code == 201, made.text
    login = {"email": "karim@example.com", "password": NEW_PASSWORD}
    assert (await api.post("/v1/auth/login", json=login)).status_code == 401  # no password yet

    token = await mail_link(database, tenant, "auth.welcome", "set_password_url")
    done = await api.post(
        "/v1/auth/reset-password", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    signed_in = await api.post("/v1/auth/login", json=login)
    assert signed_in.status_code == 200, signed_in.text
    user = await api.get(f"{URL}/{made.json()['id']}", headers=headers)
    assert user.json()["is_verified"] is True


async def test_who_may_create(client: httpx.AsyncClient, world: World) -> None:
    body = person("who@alpha.test")
    assert (await client.post(URL, json=body)).status_code == 401
    member = await client.post(URL, json=body, headers=world.headers(world.a, "member"))
    assert member.status_code == 403 and error_code(member) == "PERMISSION_DENIED"
    reader = await client.post(URL, json=body, headers=world.headers(world.a, "agent"))
    assert reader.status_code == 403  # `user.read` is not `user.manage`


async def test_no_role_beyond_the_creators_rights(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """A custom role holding `user.manage` may create people, not admins."""
    role = await client.post(
        "/v1/admin/roles",
        json={"code": "people_clerk", "name": "People clerk",
              "permissions": ["user.manage", "user.read"]},
        headers=world.headers(world.a),
    )  # fmt: skip
    assert role.status_code == 201, role.text
    await bind_tenant(session, world.a.id, None)
    await access.assign_role(session, world.a.id, world.a.member_id, "people_clerk")
    clerk = world.headers(world.a, "member")
    above = await client.post(URL, json=person("boss@alpha.test", roles=["admin"]), headers=clerk)
    assert above.status_code == 403
    peer = await client.post(
        URL, json=person("peer@alpha.test", roles=["people_clerk"]), headers=clerk
    )
    assert peer.status_code == 201, peer.text


async def seat_refusals(session: AsyncSession, world: World) -> int:
    """`tenant.seat.limit_reached` rows of Bravo (committed by their own transactions,
    which this test's transaction sees)."""
    await bind_tenant(session, world.b.id, None)
    found = await session.execute(
        text(
            "SELECT count(*) FROM audit_logs WHERE tenant_id = :t"
            " AND action = 'tenant.seat.limit_reached'"
        ),
        {"t": world.b.id},
    )
    return int(found.scalar_one())


async def test_a_full_workspace_refuses_and_admins_hear_of_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """Bravo (DevFree, three seats) already has three people; a viewer takes no seat."""
    headers = world.headers(world.b)
    reported = await seat_refusals(session, world)
    full = await client.post(URL, json=person("fourth@bravo.test"), headers=headers)
    assert full.status_code == 422 and error_code(full) == "LIMIT_REACHED"
    assert full.json()["error"]["details"]["limit"] == 3
    assert await seat_refusals(session, world) == reported + 1
    viewer = await client.post(
        URL, json=person("reader@bravo.test", roles=["viewer"]), headers=headers
    )
    assert viewer.status_code == 201, viewer.text


async def test_an_existing_user_or_a_pending_invitation_is_a_conflict(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    taken = await client.post(URL, json=person("Member@Alpha.test"), headers=headers)
    assert taken.status_code == 409 and error_code(taken) == "CONFLICT"
    invited = await client.post(
        f"{URL}/invite", json={"email": "asked@alpha.test", "roles": ["staff"]}, headers=headers
    )
    assert invited.status_code == 201
    again = await client.post(URL, json=person("asked@alpha.test"), headers=headers)
    assert again.status_code == 409
    assert "pending invitation" in again.json()["error"]["message"]
    revoked = await client.delete(f"{URL}/invites/{invited.json()['id']}", headers=headers)
    assert revoked.status_code == 200
    now = await client.post(URL, json=person("asked@alpha.test"), headers=headers)
    assert now.status_code == 201, now.text


async def test_bad_input_is_refused_per_field(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    cases: list[tuple[dict[str, Any], str]] = [
        (person("not-an-address"), "email"),
        ({"email": "x@alpha.test", "roles": ["staff"]}, "full_name"),
        (person("x@alpha.test", roles=[]), "roles"),
        (person("x@alpha.test", roles=["super_admin"]), "roles"),
        (person("x@alpha.test", roles=["wizard"]), "roles"),
        (person("x@alpha.test", locale="fr"), "locale"),
        (person("x@alpha.test", job_title_code="astronaut"), "job_title_code"),
        (person("x@alpha.test", password="given-by-admin-1"), "password"),
    ]
    for body, field in cases:
        r = await client.post(URL, json=body, headers=headers)
        assert r.status_code == 422, (field, r.text)
        assert error_code(r) == "VALIDATION_ERROR"
        details = r.json()["error"]["details"]
        assert field in str(details), (field, details)
    assert "x@alpha.test" not in {u["email"] for u in await listed(client, world)}


# --- the People screen's form ---------------------------------------------------------


def form(email: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": email,
        "full_name": "Youssef Adel",
        "roles": ["staff"],
        "locale": "en",
        **extra,
    }


async def test_the_form_creates_and_links_to_the_person(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    page = await client.get("/admin/users", headers=cookie(world))
    assert f'hx-post="{FORM}"' in page.text
    assert 'id="new-user-job_title_code"' in page.text
    made = await client.post(
        FORM,
        data=form("youssef@alpha.test") | {"job_title_code": "broker", "department_code": ""},
        headers=cookie(world) | HTMX,
    )
    assert made.status_code == 201, made.text
    created = {u["email"]: u for u in await listed(client, world)}["youssef@alpha.test"]
    assert f'href="/admin/users/{created["id"]}"' in made.text
    assert created["roles"] == ["staff"]
    person = await client.get(f"/admin/users/{created['id']}", headers=cookie(world))
    assert 'data-testid="job-title"' in person.text and "Broker" in person.text
    assert len(await welcome_mails(session, world, "youssef@alpha.test")) == 1


async def test_the_form_shows_refusals_beside_their_field(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = cookie(world) | HTMX
    bad = await client.post(FORM, data=form("not-an-address"), headers=headers)
    assert bad.status_code == 422 and 'id="new-user-email-error"' in bad.text
    assert 'value="not-an-address"' in bad.text  # what was typed stays
    no_name = await client.post(FORM, data=form("n@alpha.test", full_name=""), headers=headers)
    assert no_name.status_code == 422 and 'id="new-user-full_name-error"' in no_name.text
    odd_title = form("n@alpha.test") | {"job_title_code": "astronaut"}
    odd = await client.post(FORM, data=odd_title, headers=headers)
    assert odd.status_code == 422 and 'id="new-user-job_title_code-error"' in odd.text
    no_role = await client.post(FORM, data=form("n@alpha.test", roles=[]), headers=headers)
    assert no_role.status_code == 422 and 'id="new-user-roles-error"' in no_role.text
    taken = await client.post(FORM, data=form("member@alpha.test"), headers=headers)
    assert taken.status_code == 409 and "already a user here" in taken.text
    full = await client.post(
        FORM, data=form("fourth@bravo.test"), headers=cookie(world, tenant="b") | HTMX
    )
    assert full.status_code == 422 and 'role="alert"' in full.text
    assert "n@alpha.test" not in {u["email"] for u in await listed(client, world)}


async def test_who_may_use_the_form(client: httpx.AsyncClient, world: World) -> None:
    members_page = await client.get("/admin/users", headers=cookie(world, "agent"))
    assert members_page.status_code == 200 and f'hx-post="{FORM}"' not in members_page.text
    member = await client.post(
        FORM, data=form("m@alpha.test"), headers=cookie(world, "member") | HTMX
    )
    assert member.status_code == 403
    cross_site = await client.post(FORM, data=form("cs@alpha.test"), headers=cookie(world))
    assert cross_site.status_code == 403
    anonymous = await client.post(FORM, data=form("an@alpha.test"), headers=HTMX)
    assert anonymous.status_code == 204 and "/login" in anonymous.headers["HX-Redirect"]
    assert not {"m@alpha.test", "cs@alpha.test"} & {u["email"] for u in await listed(client, world)}
