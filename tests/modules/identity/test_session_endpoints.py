"""Revoking someone else's session, and resending the verification e-mail."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import Database
from m3crm.kernel.tenancy.models import User
from m3crm.modules.notify.models import OutboxMessage
from tests.conftest import World
from tests.factories import bearer as bearer_for
from tests.modules.identity.helpers import make_session
from tests.modules.identity.test_auth import api, bearer, mail_link, sign_up  # noqa: F401
from tests.modules.identity.test_users_admin import new_user, open_session

RESEND = "/v1/auth/verify-email/resend"


async def test_only_tenant_session_revokers_end_someone_elses_session(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    target, _ = await make_session(session, app, world)  # the admin's session
    staff = await client.delete(
        f"/v1/auth/sessions/{target}", headers=world.headers(world.a, "agent")
    )
    assert staff.status_code == 404
    other_tenant = await client.delete(
        f"/v1/auth/sessions/{target}", headers=world.headers(world.b)
    )
    assert other_tenant.status_code == 404
    assert (await client.delete(f"/v1/auth/sessions/{target}")).status_code == 401
    admin = await client.delete(f"/v1/auth/sessions/{target}", headers=world.headers(world.a))
    assert admin.status_code == 204


async def verification_mails(database: Database, tenant: UUID) -> int:
    async with database.transaction(tenant) as s:
        query = select(func.count()).where(OutboxMessage.family == "auth.verify_email")
        return int((await s.execute(query)).scalar_one())


async def test_resend_verification_sends_until_verified(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    body = (await sign_up(api)).json()
    tenant = UUID(body["tenant_id"])
    headers = bearer(body["access_token"])
    api.cookies.clear()
    assert (await api.post(RESEND)).status_code == 401
    assert (await api.post(RESEND, headers=headers)).status_code == 202
    assert await verification_mails(database, tenant) == 2
    token = await mail_link(database, tenant, "auth.verify_email", "verify_url")
    assert (await api.post("/v1/auth/verify-email", json={"token": token})).status_code == 200
    assert (await api.post(RESEND, headers=headers)).status_code == 202
    assert await verification_mails(database, tenant) == 2  # verified: nothing more is sent


async def test_resend_verification_is_limited_per_account(
    app: FastAPI,
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    body = (await sign_up(api)).json()
    api.cookies.clear()
    original = app.state.settings
    limits = {**original.auth_rate_limits, "reset.account": "1/minute"}
    app.state.settings = original.model_copy(update={"auth_rate_limits": limits})
    try:
        first = await api.post(RESEND, headers=bearer(body["access_token"]))
        second = await api.post(RESEND, headers=bearer(body["access_token"]))
    finally:
        app.state.settings = original
    assert (first.status_code, second.status_code) == (202, 429)


async def test_an_unverified_admin_cannot_end_someone_elses_session(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    """Revoking another person's session is privileged: a verified e-mail first (403
    `AUTH_EMAIL_UNVERIFIED`); one's own sessions stay revocable unverified."""
    admin = await new_user(session, world, "unverified-admin@alpha.test", role="admin")
    unverified = await session.get(User, (world.a.id, admin))
    assert unverified is not None
    unverified.is_verified = False
    own = await open_session(session, world, admin)
    target, _ = await make_session(session, app, world)  # the seeded admin's session
    headers = bearer_for(world.settings, world.a.id, admin)

    refused = await client.delete(f"/v1/auth/sessions/{target}", headers=headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "AUTH_EMAIL_UNVERIFIED"
    assert refused.json()["error"]["details"] == {"permission": "session.revoke.tenant"}
    missing = await client.delete(f"/v1/auth/sessions/{uuid4()}", headers=headers)
    assert missing.status_code == 404
    assert (await client.delete(f"/v1/auth/sessions/{own}", headers=headers)).status_code == 204

    unverified.is_verified = True
    await session.flush()
    allowed = await client.delete(f"/v1/auth/sessions/{target}", headers=headers)
    assert allowed.status_code == 204
