"""The negative paths of the notifications API: anonymous (401), missing permission
(403), another tenant's id (404), bad consent input (422), and filters that exclude."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import new_id
from m3crm.modules.notify.models import InboxEntry, OutboxMessage
from tests.conftest import World, error_code
from tests.factories import bearer, make_user
from tests.modules.notify.helpers import draft_template, failed_message, inbox_entry

SOME_ID = "01a21743-0000-7000-8000-000000000001"
CONSENT = {"subject_type": "user", "channel": "email", "consent_source": "web_form"}
T = f"/v1/notify/templates/{SOME_ID}"

ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/v1/notify/templates", None),
    ("POST", "/v1/notify/templates", {}),
    ("GET", T, None),
    ("PATCH", T, {"name": "x"}),
    ("POST", f"{T}/versions", None),
    ("POST", f"{T}/approve", None),
    ("POST", f"{T}/retire", None),
    ("POST", f"{T}/preview", {"payload": {}}),
    ("GET", "/v1/notify/messages", None),
    ("GET", f"/v1/notify/messages/{SOME_ID}", None),
    ("POST", f"/v1/notify/messages/{SOME_ID}/requeue", None),
    ("POST", "/v1/notify/opt-in", {**CONSENT, "subject_id": SOME_ID}),
    ("POST", "/v1/notify/opt-out", {**CONSENT, "subject_id": SOME_ID}),
    ("GET", "/v1/me/notifications", None),
    ("PATCH", f"/v1/me/notifications/{SOME_ID}/read", None),
    ("POST", "/v1/me/notifications/read", {}),
    ("GET", "/v1/me/notification-preferences", None),
    ("PUT", "/v1/me/notification-preferences", {"email_on_sms": False}),
    ("GET", f"/v1/admin/notifications/{SOME_ID}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_anonymous_is_refused(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/notify/opt-in", {**CONSENT, "subject_id": SOME_ID}),
        ("POST", "/v1/notify/opt-out", {**CONSENT, "subject_id": SOME_ID}),
        ("POST", f"{T}/versions", None),
        ("POST", f"{T}/retire", None),
        ("POST", f"{T}/preview", {"payload": {}}),
        ("POST", f"{T}/approve", None),
        ("PUT", "/v1/me/notification-preferences", {"email_on_sms": False}),
        ("GET", "/v1/me/notifications", None),
        ("GET", f"/v1/admin/notifications/{SOME_ID}", None),
        ("POST", f"/v1/notify/messages/{SOME_ID}/requeue", None),
    ],
)
async def test_a_user_without_the_permission_is_refused(
    client: httpx.AsyncClient, world: World, method: str, path: str, body: Any
) -> None:
    member = world.headers(world.a, "member")  # holds no role
    response = await client.request(method, path, json=body, headers=member)
    assert response.status_code == 403, response.text
    assert error_code(response) == "PERMISSION_DENIED"


async def test_approving_needs_its_own_permission(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """A marketing manager edits templates (`notify.templates.manage`) but may not
    approve them (`notify.templates.approve`)."""
    draft = await draft_template(session, world.a)
    marketer = await make_user(
        session, tenant_id=world.a.id, email=f"m{new_id().hex[:8]}@alpha.test",
        role="marketing_manager",
    )  # fmt: skip
    headers = bearer(world.settings, world.a.id, marketer)
    assert (
        await client.get(f"/v1/notify/templates/{draft.id}", headers=headers)
    ).status_code == 200
    refused = await client.post(f"/v1/notify/templates/{draft.id}/approve", headers=headers)
    assert refused.status_code == 403
    assert error_code(refused) == "PERMISSION_DENIED"


async def test_another_tenants_ids_are_not_found(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs_template = await draft_template(session, world.b)
    theirs_message = await failed_message(session, world.b)
    theirs_entry = await inbox_entry(session, world.b, world.b.admin_id)
    headers = world.headers(world.a)
    for method, path in (
        ("GET", f"/v1/notify/templates/{theirs_template.id}"),
        ("POST", f"/v1/notify/templates/{theirs_template.id}/approve"),
        ("GET", f"/v1/notify/messages/{theirs_message.id}"),
        ("POST", f"/v1/notify/messages/{theirs_message.id}/requeue"),
        ("PATCH", f"/v1/me/notifications/{theirs_entry.id}/read"),
        ("GET", f"/v1/admin/notifications/{world.b.admin_id}"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 404, (path, response.text)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"subject_type": "robot"}, "subject_type"),
        ({"subject_id": "not-a-uuid"}, "subject_id"),
        ({"consent_source": None}, "consent_source"),
        ({"e164": "01001234567", "channel": "sms"}, "e164"),
        ({"surprise": True}, "surprise"),
    ],
)
@pytest.mark.parametrize("action", ["opt-in", "opt-out"])
async def test_consent_input_is_validated(
    client: httpx.AsyncClient, world: World, action: str, change: dict[str, Any], field: str
) -> None:
    body = {**CONSENT, "subject_id": str(world.a.agent_id), **change}
    response = await client.post(f"/v1/notify/{action}", json=body, headers=world.headers(world.a))
    assert response.status_code == 422, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert field in str(response.json()["error"]["details"]), response.text


async def at(session: AsyncSession, row: OutboxMessage | InboxEntry, when: datetime) -> None:
    row.created_at = when
    await session.flush()


async def test_outbox_date_filters_exclude_what_is_outside(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    day = datetime(2031, 5, 10, tzinfo=UTC)
    before, inside, after = [await failed_message(session, world.a) for _ in range(3)]
    await at(session, before, day - timedelta(hours=1))
    await at(session, inside, day + timedelta(hours=1))
    await at(session, after, day + timedelta(days=1, hours=1))
    window = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    listed = await client.get("/v1/notify/messages", params=window, headers=world.headers(world.a))
    assert listed.status_code == 200, listed.text
    ids = {m["id"] for m in listed.json()["items"]}
    assert str(inside.id) in ids
    assert ids.isdisjoint({str(before.id), str(after.id)})


async def test_inbox_since_filter_excludes_older_entries(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    now = datetime.now(UTC)
    old = await inbox_entry(session, world.a, world.a.admin_id)
    new = await inbox_entry(session, world.a, world.a.admin_id)
    await at(session, old, now - timedelta(days=3))
    await at(session, new, now - timedelta(hours=1))
    since = (now - timedelta(days=1)).isoformat()
    listed = await client.get(
        "/v1/me/notifications", params={"since": since}, headers=world.headers(world.a)
    )
    assert listed.status_code == 200, listed.text
    ids = {e["id"] for e in listed.json()["items"]}
    assert str(new.id) in ids
    assert str(old.id) not in ids
