"""Every way in leaves `auth.login` (sign-up, accepting an invitation, API and page); a
welcome link that verifies the e-mail leaves `user.verified`; accepting an invitation
after the seats were taken is 422 `LIMIT_REACHED` (over committed data)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.db.session import Database
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.service import create_user
from tests.modules.identity.test_auth import PASSWORD, api, bearer, mail_link, sign_up  # noqa: F401

HX = {"HX-Request": "true"}


async def rows(database: Database, tenant: UUID, action: str) -> list[AuditLog]:
    async with database.transaction(tenant) as session:
        found = await session.execute(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.occurred_at)
        )
        return list(found.scalars())


async def verified_owner(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> tuple[UUID, dict[str, str]]:
    body = (await sign_up(api)).json()
    tenant = UUID(body["tenant_id"])
    token = await mail_link(database, tenant, "auth.verify_email", "verify_url")
    assert (await api.post("/v1/auth/verify-email", json={"token": token})).status_code == 200
    api.cookies.clear()
    return tenant, bearer(body["access_token"])


async def invite(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
    tenant: UUID,
    headers: dict[str, str],
) -> str:
    email = f"new-{uuid4().hex[:6]}@example.com"
    sent = await api.post(
        "/v1/admin/users/invite", json={"email": email, "roles": ["staff"]}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    return await mail_link(database, tenant, "auth.invitation", "accept_url")


def methods(found: list[AuditLog]) -> list[Any]:
    return [r.after_data["method"] for r in found if r.after_data]


async def test_sign_up_is_a_sign_in(api: httpx.AsyncClient, database: Database) -> None:  # noqa: F811
    body = (await sign_up(api)).json()
    found = await rows(database, UUID(body["tenant_id"]), "auth.login")
    assert methods(found) == ["signup"]
    assert found[0].entity_id == body["session_id"]


async def test_accepting_an_invitation_is_a_sign_in(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    tenant, headers = await verified_owner(api, database)
    token = await invite(api, database, tenant, headers)
    accepted = await api.post(
        "/v1/admin/users/accept-invite",
        json={"token": token, "full_name": "Omar Hassan", "password": "olive-grove-771"},
    )
    assert accepted.status_code == 201, accepted.text
    api.cookies.clear()
    page_token = await invite(api, database, tenant, headers)
    joined = await api.post(
        "/accept-invite",
        data={"token": page_token, "full_name": "Nour Adel", "password": "olive-grove-771"},
        headers=HX,
    )
    assert joined.status_code == 204, joined.text
    found = await rows(database, tenant, "auth.login")
    assert methods(found) == ["signup", "invitation", "invitation"]
    assert found[1].actor_user_id == UUID(accepted.json()["user_id"])


async def test_welcome_link_records_the_verification(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    tenant, headers = await verified_owner(api, database)
    made = await api.post(
        "/v1/admin/users",
        json={"email": f"w-{uuid4().hex[:6]}@example.com", "full_name": "Hana", "roles": ["staff"]},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    token = await mail_link(database, tenant, "auth.welcome", "set_password_url")
    saved = await api.post(
        "/v1/auth/reset-password", json={"token": token, "password": "maple-stone-551"}
    )
    assert saved.status_code == 204, saved.text
    found = [r for r in await rows(database, tenant, "user.verified") if r.entity_id == user_id]
    assert len(found) == 1 and found[0].after_data == {"is_verified": True}


async def test_an_invitation_accepted_after_the_seats_went_is_refused(
    api: httpx.AsyncClient,  # noqa: F811
    database: Database,
) -> None:
    tenant, headers = await verified_owner(api, database)
    token = await invite(api, database, tenant, headers)
    async with database.transaction(tenant) as session:  # DevFree: 3 seats, now 4 taken
        for n in range(2):
            await create_user(
                session, tenant_id=TenantId(tenant), email=f"seat{n}@example.com", full_name="S"
            )
    refused = await api.post(
        "/v1/admin/users/accept-invite",
        json={"token": token, "full_name": "Late Comer", "password": "olive-grove-771"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "LIMIT_REACHED"
    assert await rows(database, tenant, "tenant.seat.limit_reached")
