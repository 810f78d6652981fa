"""Templates (versioned CRUD, preview, resolution), outbox reading, inbox, preferences."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.models import Channel, ProviderCredential
from tests.conftest import World, error_code
from tests.modules.notify.helpers import draft_template, failed_message, inbox_entry

T = "/v1/notify/templates"


def sms_template(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "sms",
        "family": "otp.verify_phone",
        "locale": "en",
        "name": "Our OTP",
        "body": "Nile Crest code: {{ code }}",
        "variables": {"code": {"required": True}},
    }
    body.update(extra)
    return body


async def test_template_lifecycle_draft_approve_then_used(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    created = await client.post(T, json=sms_template(), headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert (template["status"], template["code"], template["version"]) == (
        "draft",
        "otp.sms.verify_phone",
        1,
    )
    edited = await client.patch(
        f"{T}/{template['id']}", json={"body": "Nile Crest code {{ code }}."}, headers=headers
    )
    assert edited.status_code == 200
    approved = await client.post(f"{T}/{template['id']}/approve", headers=headers)
    assert approved.json()["status"] == "approved"

    again = await client.patch(f"{T}/{template['id']}", json={"name": "x"}, headers=headers)
    assert again.status_code == 409
    assert error_code(again) == "INVALID_TRANSITION"

    sent = await client.post(
        "/v1/notify/dispatch",
        json={
            "channel": "sms",
            "to": "+201001234567",
            "family": "otp.verify_phone",
            "payload": otp_payload("777", expires_min=10, tenant_name="Alpha"),
            "mirror": False,
            "locale": "en",
        },
        headers=headers,
    )
    assert sent.status_code == 202
    message_id = sent.json()["messages"][0]["id"]
    listed = await client.get("/v1/notify/messages?channel=sms&status=queued", headers=headers)
    assert message_id in [m["id"] for m in listed.json()["items"]]

    version = await client.post(f"{T}/{template['id']}/versions", headers=headers)
    assert version.status_code == 201
    assert version.json()["version"] == 2
    approved_v2 = await client.post(f"{T}/{version.json()['id']}/approve", headers=headers)
    assert approved_v2.status_code == 200
    first = await client.get(f"{T}/{template['id']}", headers=headers)
    assert first.json()["status"] == "retired"


async def test_template_must_declare_the_variables_it_uses(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        T, json=sms_template(body="Hi {{ name }} {{ code }}"), headers=world.headers(world.a)
    )
    assert response.status_code == 422
    assert "variables" in response.json()["error"]["details"]["fields"]
    broken = await client.post(
        T, json=sms_template(body="Hi {{ code "), headers=world.headers(world.a)
    )
    assert broken.status_code == 422
    assert "body" in broken.json()["error"]["details"]["fields"]


async def test_email_template_needs_a_subject(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        T, json=sms_template(channel="email"), headers=world.headers(world.a)
    )
    assert response.status_code == 422
    assert "subject" in response.json()["error"]["details"]["fields"]


async def test_global_templates_are_listed_and_cannot_be_edited(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    listed = await client.get(f"{T}?family=otp.verify_phone&locale=ar", headers=headers)
    assert listed.status_code == 200
    rows = listed.json()
    assert {r["channel"] for r in rows} == {"email", "sms", "whatsapp", "inbox"}
    assert all(r["tenant_id"] is None and r["status"] == "approved" for r in rows)
    edit = await client.patch(f"{T}/{rows[0]['id']}", json={"name": "x"}, headers=headers)
    assert edit.status_code == 409
    retire = await client.post(f"{T}/{rows[0]['id']}/retire", headers=headers)
    assert retire.status_code == 409


async def test_preview_renders_and_lists_missing_variables(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    rows = (await client.get(f"{T}?family=auth.invitation&locale=en", headers=headers)).json()
    preview = await client.post(
        f"{T}/{rows[0]['id']}/preview",
        json={"payload": {"workspace": "Nile <Crest>", "inviter": "Omar"}},
        headers=headers,
    )
    assert preview.status_code == 200
    body = preview.json()
    assert body["subject"] == "You are invited to Nile <Crest>"
    assert "Nile &lt;Crest&gt;" in body["html"]
    assert body["missing_variables"] == ["accept_url"]


async def test_templates_need_the_permission(client: httpx.AsyncClient, world: World) -> None:
    member = world.headers(world.a, "member")
    assert (await client.get(T, headers=member)).status_code == 403
    assert (await client.post(T, json=sms_template(), headers=member)).status_code == 403
    assert (await client.get("/v1/notify/messages", headers=member)).status_code == 403


async def test_requeue_only_dead_letters(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    message = await failed_message(session, world.a)
    headers = world.headers(world.a)
    requeued = await client.post(f"/v1/notify/messages/{message.id}/requeue", headers=headers)
    assert requeued.status_code == 200, requeued.text
    assert (requeued.json()["status"], requeued.json()["attempts"]) == ("queued", 0)
    again = await client.post(f"/v1/notify/messages/{message.id}/requeue", headers=headers)
    assert again.status_code == 409
    member = world.headers(world.a, "member")
    denied = await client.post(f"/v1/notify/messages/{message.id}/requeue", headers=member)
    assert denied.status_code == 403


async def test_inbox_read_flags_and_pagination(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    for _ in range(3):
        await inbox_entry(session, world.a, world.a.admin_id)
    headers = world.headers(world.a)
    page = await client.get("/v1/me/notifications?limit=2&is_read=false", headers=headers)
    assert page.status_code == 200
    body = page.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    unread_before = body["unread"]
    first = body["items"][0]["id"]
    marked = await client.patch(f"/v1/me/notifications/{first}/read", headers=headers)
    assert marked.json()["is_read"] is True
    rest = await client.post("/v1/me/notifications/read", json={}, headers=headers)
    assert rest.json()["updated"] == unread_before - 1
    after = await client.get("/v1/me/notifications?is_read=false", headers=headers)
    assert after.json()["unread"] == 0 and after.json()["items"] == []


async def test_inbox_is_personal(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    entry = await inbox_entry(session, world.a, world.a.admin_id)
    agent = world.headers(world.a, "agent")
    response = await client.patch(f"/v1/me/notifications/{entry.id}/read", headers=agent)
    assert response.status_code == 404
    admin_view = await client.get(
        f"/v1/admin/notifications/{world.a.admin_id}", headers=world.headers(world.a)
    )
    assert admin_view.status_code == 200
    assert str(entry.id) in [e["id"] for e in admin_view.json()["items"]]
    assert (
        await client.get(f"/v1/admin/notifications/{world.a.admin_id}", headers=agent)
    ).status_code == 403


async def test_preferences_default_and_validate(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a, "agent")
    defaults = await client.get("/v1/me/notification-preferences", headers=headers)
    assert defaults.json()["email_on_sms"] is True
    bad = await client.put(
        "/v1/me/notification-preferences", json={"locale": "arabic!"}, headers=headers
    )
    assert bad.status_code == 422
    unknown = await client.put(
        "/v1/me/notification-preferences", json={"theme": "dark"}, headers=headers
    )
    assert unknown.status_code == 422


async def test_provider_credentials_are_stored_encrypted(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    response = await client.put(
        "/v1/notify/provider-credentials",
        json={"provider": "brevo", "api_key": "xkeysib-secret-value"},
        headers=world.headers(world.a),
    )
    assert response.status_code == 204, response.text
    row = (await session.execute(select(ProviderCredential))).scalars().all()
    assert row and all(b"xkeysib" not in r.data for r in row)
    member = await client.put(
        "/v1/notify/provider-credentials",
        json={"provider": "brevo", "api_key": "k"},
        headers=world.headers(world.a, "member"),
    )
    assert member.status_code == 403


async def test_provider_credentials_refuse_bad_input(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    for body in (
        {"provider": "twilio", "api_key": "k"},
        {"provider": "infobip", "api_key": "has space"},
        {"provider": "infobip", "api_key": "k", "base_url": "ftp://x"},
        {"provider": "brevo"},
    ):
        response = await client.put("/v1/notify/provider-credentials", json=body, headers=headers)
        assert response.status_code == 422, body
    anonymous = await client.put(
        "/v1/notify/provider-credentials", json={"provider": "brevo", "api_key": "k"}
    )
    assert anonymous.status_code == 401


def email_template() -> dict[str, Any]:
    return sms_template(channel="email", family="promo.patch_nulls", subject="Hi {{ code }}")


@pytest.mark.parametrize("field", ["name", "body", "variables"])
async def test_patch_refuses_null_for_required_fields(
    client: httpx.AsyncClient, world: World, field: str
) -> None:
    headers = world.headers(world.a)
    created = await client.post(T, json=email_template(), headers=headers)
    assert created.status_code == 201, created.text
    patched = await client.patch(f"{T}/{created.json()['id']}", json={field: None}, headers=headers)
    assert patched.status_code == 422, patched.text
    assert field in patched.json()["error"]["details"]["fields"]


async def test_patch_cannot_clear_the_subject_of_an_email_template(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    created = await client.post(T, json=email_template(), headers=headers)
    patched = await client.patch(
        f"{T}/{created.json()['id']}", json={"subject": None}, headers=headers
    )
    assert patched.status_code == 422
    assert "subject" in patched.json()["error"]["details"]["fields"]
    kept = await client.get(f"{T}/{created.json()['id']}", headers=headers)
    assert kept.json()["subject"] == "Hi {{ code }}"
    cleared_html = await client.patch(
        f"{T}/{created.json()['id']}", json={"body_html": None}, headers=headers
    )
    assert cleared_html.status_code == 200


async def test_a_draft_without_subject_cannot_be_approved(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    draft = await draft_template(session, world.a)
    draft.channel = Channel.EMAIL
    await session.flush()
    approved = await client.post(f"{T}/{draft.id}/approve", headers=world.headers(world.a))
    assert approved.status_code == 422
    assert "subject" in approved.json()["error"]["details"]["fields"]
