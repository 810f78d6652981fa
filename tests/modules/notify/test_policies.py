"""Notification policies (Section 14 §3): `GET/PUT /v1/admin/notification-policies` and
Settings → Notification policies; each policy changes what dispatch does."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.policies import Policies
from m3crm.modules.notify.web_policies import POLICY_TEXTS
from tests.conftest import World, error_code
from tests.factories import make_user
from tests.modules.access.helpers import audit_rows
from tests.modules.notify.helpers import send_stop
from tests.modules.notify.test_dispatch import URL, otp_sms
from tests.modules.notify.test_web import cookie, htmx

API = "/v1/admin/notification-policies"
DEFAULTS = {"mirroring": True, "allow_transactional_over_stop": False}


async def test_anonymous_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get(API)).status_code == 401
    assert (await client.put(API, json={"mirroring": False})).status_code == 401


async def test_policies_need_the_permission(client: httpx.AsyncClient, world: World) -> None:
    agent = world.headers(world.a, "agent")
    assert (await client.get(API, headers=agent)).status_code == 403
    assert (await client.put(API, json={"mirroring": False}, headers=agent)).status_code == 403
    page = await client.get("/settings/notification-policies", headers=cookie(world, "agent"))
    assert page.status_code == 403


async def test_bad_input_names_the_field(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    for body, field in (
        ({"mirroring": None}, "mirroring"),
        ({"mirroring": "sometimes"}, "mirroring"),
        ({"quiet_hours": True}, "quiet_hours"),
    ):
        response = await client.put(API, json=body, headers=headers)
        assert response.status_code == 422, body
        assert error_code(response) == "VALIDATION_ERROR"
        assert field in str(response.json()["error"]["details"]), body


async def test_defaults_then_a_change_only_to_what_was_sent(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    assert (await client.get(API, headers=headers)).json() == DEFAULTS
    changed = await client.put(API, json={"mirroring": False}, headers=headers)
    assert changed.status_code == 200
    assert changed.json() == {**DEFAULTS, "mirroring": False}
    assert (await client.get(API, headers=headers)).json() == {**DEFAULTS, "mirroring": False}
    again = await client.put(API, json={"mirroring": False}, headers=headers)
    assert again.status_code == 200
    rows = await audit_rows(session, world.a.id, "notify.policies.updated")
    assert [(r.before_data, r.after_data) for r in rows] == [
        ({"mirroring": True}, {"mirroring": False})
    ]
    other = (await client.get(API, headers=world.headers(world.b))).json()
    assert other == DEFAULTS


async def test_mirroring_off_sends_only_the_channel(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    await client.put(API, json={"mirroring": False}, headers=headers)
    sent = await client.post(
        URL, json=otp_sms(recipient_user_id=str(world.a.admin_id)), headers=headers
    )
    assert sent.status_code == 202, sent.text
    assert [m["channel"] for m in sent.json()["messages"]] == ["sms"]


async def test_transactional_over_stop_follows_the_policy(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    stopped = "+201001112244"
    await send_stop(client, world, stopped)
    assert (await client.post(URL, json=otp_sms(to=stopped), headers=headers)).status_code == 422
    await client.put(API, json={"allow_transactional_over_stop": True}, headers=headers)
    allowed = await client.post(URL, json=otp_sms(to=stopped), headers=headers)
    assert allowed.status_code == 202, allowed.text
    promotion = otp_sms(
        to=stopped,
        type="marketing",
        payload=otp_payload("111111", expires_min=5, tenant_name="Alpha"),
    )
    marketing = await client.post(URL, json=promotion, headers=headers)
    assert marketing.status_code == 422


async def test_settings_page_saves(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/settings/notification-policies", headers=cookie(world))
    assert page.status_code == 200
    assert 'id="policy-mirroring"' in page.text and 'for="policy-mirroring"' in page.text
    assert "Saved" not in page.text
    saved = await client.post(
        "/settings/notification-policies",
        headers=htmx(world),
        data={"allow_transactional_over_stop": "1"},
    )
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith('<form id="policies-form"') and "Saved" in saved.text
    current = await client.get(API, headers=world.headers(world.a))
    assert current.json() == {"mirroring": False, "allow_transactional_over_stop": True}


def test_every_policy_has_its_texts() -> None:
    """`require_verified_phone` has its own form (`PHONE_POLICY_TEXT`, another permission)."""
    assert set(POLICY_TEXTS) | {"require_verified_phone"} == set(Policies.__dataclass_fields__)


async def test_phone_policy_alone_opens_the_page_with_its_form_only(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """Settings → Notification policies serves two rights; each sees the forms it may use."""
    admin = world.headers(world.a)
    role = {
        "code": "phone_officer",
        "name": "Phone officer",
        "permissions": ["twofa.manage.tenant"],
    }
    assert (await client.post("/v1/admin/roles", json=role, headers=admin)).status_code == 201
    await bind_tenant(session, world.a.id, None)
    officer_id = await make_user(
        session, tenant_id=world.a.id, email="phones@a.test", role="phone_officer"
    )
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=officer_id)
    officer = {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}
    page = await client.get("/settings/notification-policies", headers=officer)
    assert page.status_code == 200, page.text
    assert 'name="require_verified_phone"' in page.text
    assert 'id="policies-form"' not in page.text
    assert 'href="/settings/notification-policies"' in page.text  # in the menu
    refused = await client.post(
        "/settings/notification-policies", headers={**officer, "HX-Request": "true"}, data={}
    )
    assert refused.status_code == 403
