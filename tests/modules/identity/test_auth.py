"""Sign-up, sign-in, refresh rotation, sessions, verification, reset, invitations.

Sign-in works over committed data in its own transactions, so these tests use a client
without the rolled-back session and give every test its own workspace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from m3crm.kernel.db.session import Database
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access.models import Role
from m3crm.modules.identity.models import AuthSession, UserProfile
from m3crm.modules.notify.models import OutboxMessage
from m3crm.settings import Settings

PASSWORD = "river-lotus-4817"


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Requests commit like in production (no shared test transaction)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def slug() -> str:
    return f"ws-{uuid4().hex[:10]}"


async def sign_up(
    api: httpx.AsyncClient, *, email: str | None = None, workspace: str | None = None, **extra: Any
) -> httpx.Response:
    body = {
        "workspace_name": "Nile Crest Realty",
        "workspace_slug": workspace or slug(),
        "full_name": "Sara Ali",
        "email": email or f"sara-{uuid4().hex[:8]}@example.com",
        "password": PASSWORD,
        **extra,
    }
    return await api.post("/v1/auth/register-super-admin", json=body)


async def mail_link(database: Database, tenant_id: UUID, family: str, key: str) -> str:
    async with database.transaction(tenant_id) as session:
        rows = (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.family == family)
                .order_by(OutboxMessage.id.desc())
            )
        ).scalars()
        url = str(next(iter(rows)).payload[key])
    return url.split("token=", 1)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_sign_up_verify_email_then_privileged_actions(
    api: httpx.AsyncClient, database: Database
) -> None:
    response = await sign_up(api, refresh_via="body")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["refresh_token"] and body["access_token"]
    assert "m3crm_access" in response.cookies
    headers = bearer(body["access_token"])

    blocked = await api.get("/v1/notify/templates", headers=headers)
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "AUTH_EMAIL_UNVERIFIED"
    sessions = await api.get("/v1/auth/sessions", headers=headers)
    assert sessions.status_code == 200  # self-service needs no verified e-mail

    token = await mail_link(database, UUID(body["tenant_id"]), "auth.verify_email", "verify_url")
    verified = await api.post("/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200 and verified.json()["is_verified"] is True
    again = await api.post("/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400 and again.json()["error"]["code"] == "TOKEN_INVALID"
    assert (await api.get("/v1/notify/templates", headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"password": "short1"}, "password"),
        ({"password": "aaaaaaaaaaaa"}, "password"),
        ({"password": "password123"}, "password"),
        ({"workspace": "Bad Slug!"}, "workspace_slug"),
        ({"email": "not-an-email"}, "email"),
    ],
)
async def test_sign_up_refuses_bad_input(
    api: httpx.AsyncClient, extra: dict[str, str], field: str
) -> None:
    response = await sign_up(api, **extra)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["details"]["fields"]


async def test_taken_workspace_address(api: httpx.AsyncClient) -> None:
    workspace = slug()
    assert (await sign_up(api, workspace=workspace)).status_code == 201
    again = await sign_up(api, workspace=workspace)
    assert again.status_code == 422
    assert "workspace_slug" in again.json()["error"]["details"]["fields"]


async def test_login_is_generic_and_locks_after_five_failures(
    api: httpx.AsyncClient, database: Database
) -> None:
    email = f"omar-{uuid4().hex[:8]}@example.com"
    tenant = UUID((await sign_up(api, email=email)).json()["tenant_id"])
    ok = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    wrong = await api.post("/v1/auth/login", json={"email": email, "password": "nope-nope-1"})
    unknown = await api.post(
        "/v1/auth/login", json={"email": f"x{email}", "password": "nope-nope-1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]

    for _ in range(4):
        await api.post("/v1/auth/login", json={"email": email, "password": "nope-nope-1"})
    locked = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 401
    assert locked.json()["error"]["message"] == wrong.json()["error"]["message"]
    async with database.transaction(tenant) as session:
        profile = (await session.execute(select(UserProfile))).scalar_one()
        assert profile.locked_until is not None
        lock_minutes = (profile.locked_until - datetime.now(UTC)).total_seconds() / 60
        assert 9 < lock_minutes <= 10
        profile.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    assert (
        await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    ).status_code == 200


async def test_same_email_in_two_workspaces_asks_which(api: httpx.AsyncClient) -> None:
    email = f"layla-{uuid4().hex[:8]}@example.com"
    first, second = slug(), slug()
    await sign_up(api, email=email, workspace=first)
    await sign_up(api, email=email, workspace=second)
    ambiguous = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert ambiguous.status_code == 409
    assert ambiguous.json()["error"]["code"] == "AUTH_WORKSPACE_REQUIRED"
    slugs = {w["slug"] for w in ambiguous.json()["error"]["details"]["workspaces"]}
    assert slugs == {first, second}
    chosen = await api.post(
        "/v1/auth/login", json={"email": email, "password": PASSWORD, "workspace": second}
    )
    assert chosen.status_code == 200
    # A wrong password never reveals the workspaces.
    wrong = await api.post("/v1/auth/login", json={"email": email, "password": "nope-nope-1"})
    assert wrong.status_code == 401 and "workspaces" not in wrong.json()["error"]["details"]


async def login_body(api: httpx.AsyncClient) -> dict[str, Any]:
    email = f"rami-{uuid4().hex[:8]}@example.com"
    await sign_up(api, email=email)
    response = await api.post(
        "/v1/auth/login", json={"email": email, "password": PASSWORD, "refresh_via": "body"}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    body["email"] = email
    return body


async def test_refresh_rotates_and_reuse_revokes_the_family(api: httpx.AsyncClient) -> None:
    first = await login_body(api)
    rotated = await api.post(
        "/v1/auth/refresh", json={"refresh_token": first["refresh_token"], "refresh_via": "body"}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]

    reused = await api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "AUTH_TOKEN_REUSED"
    # The whole family is dead: the newest token and the access token too.
    newest = await api.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert newest.status_code == 401
    me = await api.get("/v1/auth/sessions", headers=bearer(second["access_token"]))
    assert me.status_code == 401


async def test_refresh_by_cookie_needs_the_csrf_header(api: httpx.AsyncClient) -> None:
    email = f"nour-{uuid4().hex[:8]}@example.com"
    await sign_up(api, email=email)
    login = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    cookie = login.cookies["m3crm_refresh"]
    api.cookies.clear()
    cookies = {"m3crm_refresh": cookie}
    refused = await api.post("/v1/auth/refresh", json={}, cookies=cookies)
    assert refused.status_code == 403
    accepted = await api.post(
        "/v1/auth/refresh", json={}, cookies=cookies, headers={"X-Requested-With": "m3crm"}
    )
    assert accepted.status_code == 200, accepted.text


async def test_logout_and_session_management(api: httpx.AsyncClient) -> None:
    first = await login_body(api)
    other = await api.post(
        "/v1/auth/login",
        json={"email": first["email"], "password": PASSWORD, "refresh_via": "body"},
    )
    second = other.json()
    listed = await api.get("/v1/auth/sessions", headers=bearer(second["access_token"]))
    current = [s for s in listed.json() if s["current"]]
    assert len(listed.json()) >= 2 and current[0]["id"] == second["session_id"]

    revoked = await api.delete(
        f"/v1/auth/sessions/{first['session_id']}", headers=bearer(second["access_token"])
    )
    assert revoked.status_code == 204
    assert (
        await api.get("/v1/auth/sessions", headers=bearer(first["access_token"]))
    ).status_code == 401
    out = await api.post("/v1/auth/logout", headers=bearer(second["access_token"]))
    assert out.status_code == 204
    assert (
        await api.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).status_code == 401


async def test_suspended_user_cannot_refresh(api: httpx.AsyncClient, database: Database) -> None:
    body = await login_body(api)
    async with database.transaction(UUID(body["tenant_id"])) as session:
        await session.execute(
            update(User).where(User.id == UUID(body["user_id"])).values(status=UserStatus.SUSPENDED)
        )
    response = await api.post("/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert response.status_code == 401
    assert (
        await api.get("/v1/auth/sessions", headers=bearer(body["access_token"]))
    ).status_code == 401


async def test_absolute_expiry_ends_the_session(api: httpx.AsyncClient, database: Database) -> None:
    body = await login_body(api)
    async with database.transaction(UUID(body["tenant_id"])) as session:
        await session.execute(
            update(AuthSession).values(absolute_expires_at=datetime.now(UTC) - timedelta(1))
        )
    response = await api.post("/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert response.status_code == 401


async def test_forgot_and_reset_password(api: httpx.AsyncClient, database: Database) -> None:
    body = await login_body(api)
    tenant = UUID(body["tenant_id"])
    unknown = await api.post("/v1/auth/forgot-password", json={"email": "nobody@example.com"})
    assert unknown.status_code == 202
    known = await api.post("/v1/auth/forgot-password", json={"email": body["email"]})
    assert known.status_code == 202
    token = await mail_link(database, tenant, "auth.password_reset", "reset_url")
    weak = await api.post("/v1/auth/reset-password", json={"token": token, "password": "abc"})
    assert weak.status_code == 422
    done = await api.post(
        "/v1/auth/reset-password", json={"token": token, "password": "cedar-harbour-92"}
    )
    assert done.status_code == 204
    assert (
        await api.post("/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    ).status_code == 401  # every session ended
    old = await api.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    new = await api.post(
        "/v1/auth/login", json={"email": body["email"], "password": "cedar-harbour-92"}
    )
    assert (old.status_code, new.status_code) == (401, 200)
    replay = await api.post(
        "/v1/auth/reset-password", json={"token": token, "password": "cedar-harbour-93"}
    )
    assert replay.status_code == 400


@pytest.mark.parametrize("kind", ["none", "audience", "expired", "key"])
async def test_forged_access_tokens_are_refused(
    api: httpx.AsyncClient, settings: Settings, kind: str
) -> None:
    body = await login_body(api)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    key = settings.jwt_secret.get_secret_value()
    if kind == "none":
        token = jwt.encode(claims, None, algorithm="none")
    elif kind == "audience":
        token = jwt.encode({**claims, "aud": "someone-else"}, key, algorithm="HS256")
    elif kind == "expired":
        token = jwt.encode({**claims, "exp": 1_000_000}, key, algorithm="HS256")
    else:
        token = jwt.encode(claims, "another-key-of-enough-length-0123456789", algorithm="HS256")
    response = await api.get("/v1/auth/sessions", headers=bearer(token))
    assert response.status_code == 401


async def test_invitation_flow_and_seat_limit(api: httpx.AsyncClient, database: Database) -> None:
    admin = await login_body(api)
    tenant = UUID(admin["tenant_id"])
    verify = await mail_link(database, tenant, "auth.verify_email", "verify_url")
    await api.post("/v1/auth/verify-email", json={"token": verify})
    headers = bearer(admin["access_token"])

    invited = await api.post(
        "/v1/admin/users/invite",
        json={"email": "omar@example.com", "roles": ["sales_agent"]},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    duplicate = await api.post(
        "/v1/admin/users/invite",
        json={"email": "omar@example.com", "roles": ["sales_agent"]},
        headers=headers,
    )
    assert duplicate.status_code == 409
    bad_role = await api.post(
        "/v1/admin/users/invite", json={"email": "x@example.com", "roles": ["wizard"]},
        headers=headers,
    )  # fmt: skip
    assert bad_role.status_code == 422
    first_link = await mail_link(database, tenant, "auth.invitation", "accept_url")
    resent = await api.post(
        f"/v1/admin/users/invites/{invited.json()['id']}/resend", headers=headers
    )
    assert resent.status_code == 200 and resent.json()["sent_count"] == 2
    link = await mail_link(database, tenant, "auth.invitation", "accept_url")
    stale = await api.post(
        "/v1/admin/users/accept-invite",
        json={"token": first_link, "full_name": "Omar", "password": "olive-grove-771"},
    )
    assert stale.status_code == 400
    accepted = await api.post(
        "/v1/admin/users/accept-invite",
        json={"token": link, "full_name": "Omar Hassan", "password": "olive-grove-771"},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["tenant_id"] == str(tenant)

    # DevFree seats: users.max = 3 — Sara and Omar hold two, one invitation takes the third.
    third = await api.post(
        "/v1/admin/users/invite", json={"email": "nour@example.com", "roles": ["staff"]},
        headers=headers,
    )  # fmt: skip
    assert third.status_code == 201
    over = await api.post(
        "/v1/admin/users/invite", json={"email": "hana@example.com", "roles": ["staff"]},
        headers=headers,
    )  # fmt: skip
    assert over.status_code == 422
    assert over.json()["error"]["code"] == "LIMIT_REACHED"
    revoked = await api.delete(f"/v1/admin/users/invites/{third.json()['id']}", headers=headers)
    assert revoked.status_code == 200
    again = await api.post(
        "/v1/admin/users/invite", json={"email": "hana@example.com", "roles": ["staff"]},
        headers=headers,
    )  # fmt: skip
    assert again.status_code == 201


async def test_invitations_need_the_permission(client: httpx.AsyncClient, world: Any) -> None:
    response = await client.post(
        "/v1/admin/users/invite",
        json={"email": "omar@example.com", "roles": ["staff"]},
        headers=world.headers(world.a, "member"),
    )
    assert response.status_code == 403
    anonymous = await client.get("/v1/admin/users/invites")
    assert anonymous.status_code == 401


async def enable_totp(api: httpx.AsyncClient, access_token: str) -> tuple[str, list[str]]:
    setup = await api.post("/v1/auth/totp/setup", headers=bearer(access_token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirmed = await api.post(
        "/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()},
        headers=bearer(access_token),
    )  # fmt: skip
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["backup_codes"]


async def test_sign_in_with_a_second_factor(api: httpx.AsyncClient) -> None:
    body = await login_body(api)
    secret, backup = await enable_totp(api, body["access_token"])
    credentials = {"email": body["email"], "password": PASSWORD}
    step = await api.post("/v1/auth/login", json=credentials)
    assert step.status_code == 401
    assert step.json()["error"]["code"] == "AUTH_2FA_REQUIRED"
    details = step.json()["error"]["details"]
    assert set(details["methods"]) == {"totp", "backup"}
    done = await api.post(
        "/v1/auth/login/2fa",
        json={"challenge": details["challenge"], "method": "backup", "code": backup[0]},
    )
    assert done.status_code == 200, done.text
    spent = await api.post(
        "/v1/auth/login/2fa",
        json={"challenge": details["challenge"], "method": "backup", "code": backup[1]},
    )
    assert spent.status_code == 401  # a challenge is single-use

    again = (await api.post("/v1/auth/login", json=credentials)).json()["error"]["details"]
    reused = await api.post(
        "/v1/auth/login/2fa",
        json={"challenge": again["challenge"], "method": "backup", "code": backup[0]},
    )
    assert reused.status_code == 401  # a backup code works once
    next_step = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    totp = await api.post(
        "/v1/auth/login/2fa",
        json={"challenge": again["challenge"], "method": "totp", "code": next_step},
    )
    assert totp.status_code == 200, totp.text


async def test_second_factor_challenge_dies_after_five_wrong_codes(
    api: httpx.AsyncClient,
) -> None:
    body = await login_body(api)
    secret, _ = await enable_totp(api, body["access_token"])
    step = await api.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    challenge = step.json()["error"]["details"]["challenge"]
    for _ in range(5):
        wrong = await api.post(
            "/v1/auth/login/2fa", json={"challenge": challenge, "method": "totp", "code": "000000"}
        )
        assert wrong.status_code == 401
    right = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    late = await api.post(
        "/v1/auth/login/2fa", json={"challenge": challenge, "method": "totp", "code": right}
    )
    assert late.status_code == 401


async def test_section_9_events_are_in_the_audit_trail(
    api: httpx.AsyncClient, database: Database
) -> None:
    """Spec §1.9: sign-up, plan, verification, login, rotation, logout, seat limit."""
    body = await login_body(api)
    tenant = UUID(body["tenant_id"])
    token = await mail_link(database, tenant, "auth.verify_email", "verify_url")
    await api.post("/v1/auth/verify-email", json={"token": token})
    rotated = await api.post(
        "/v1/auth/refresh", json={"refresh_token": body["refresh_token"], "refresh_via": "body"}
    )
    headers = bearer(rotated.json()["access_token"])
    for n in range(3):  # DevFree: 3 seats, the owner holds one
        await api.post(
            "/v1/admin/users/invite", json={"email": f"s{n}@example.com", "roles": ["staff"]},
            headers=headers,
        )  # fmt: skip
    await api.post("/v1/auth/logout", headers=headers)
    async with database.transaction(tenant) as session:
        from m3crm.kernel.audit import AuditLog

        actions = set((await session.execute(select(AuditLog.action))).scalars())
    expected = {
        "tenant.created", "tenant.plan.changed", "user.verified", "auth.login",
        "auth.refresh_rotated", "user.invited", "tenant.seat.limit_reached", "auth.logout",
    }  # fmt: skip
    assert expected <= actions, expected - actions


async def test_sign_in_is_rate_limited_per_account(app: FastAPI, api: httpx.AsyncClient) -> None:
    original = app.state.settings
    limits = {**original.auth_rate_limits, "login.account": "3/minute"}
    app.state.settings = original.model_copy(update={"auth_rate_limits": limits})
    try:
        email = f"flood-{uuid4().hex[:8]}@example.com"
        statuses = [
            (
                await api.post("/v1/auth/login", json={"email": email, "password": "x" * 12})
            ).status_code
            for _ in range(4)
        ]
    finally:
        app.state.settings = original
    assert statuses == [401, 401, 401, 429]


async def test_demo_style_test_domain_addresses_can_sign_in(api: httpx.AsyncClient) -> None:
    """The demo agency's users live on the reserved `.test` domain (make run's logins)."""
    email = f"agent-{uuid4().hex[:6]}@demo.m3crm.test"
    assert (await sign_up(api, email=email)).status_code == 201
    response = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200


async def test_make_run_demo_logins_work(api: httpx.AsyncClient, test_db: Any) -> None:
    """The logins `make run` prints are real: each demo user signs in with them."""
    from m3crm.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo

    await seed_demo(test_db.urls)
    for user in DEMO_USERS:
        response = await api.post(
            "/v1/auth/login", json={"email": user.email, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, user.email


async def test_an_arabic_workspace_gets_its_roles_named_in_arabic(
    api: httpx.AsyncClient, database: Database
) -> None:
    response = await sign_up(api, locale="ar")
    assert response.status_code == 201, response.text
    async with database.transaction(UUID(response.json()["tenant_id"])) as session:
        names = dict((await session.execute(select(Role.code, Role.name))).tuples().all())
    assert names["sales_manager"] == "مدير المبيعات" and names["viewer"] == "مطّلع"
    english = await sign_up(api)
    async with database.transaction(UUID(english.json()["tenant_id"])) as session:
        names = dict((await session.execute(select(Role.code, Role.name))).tuples().all())
    assert names["sales_manager"] == "Sales Manager"
