"""Consent has one history: the opt-in/opt-out endpoints and the user's own marketing
switches append to it, and the most recent event decides (spec §2.9)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from m3crm.kernel.ids import new_id
from m3crm.modules.notify.catalog import otp_payload
from tests.conftest import World, error_code

URL = "/v1/notify/dispatch"
PREFS = "/v1/me/notification-preferences"
SWITCH = {"email": "marketing_email_opt_in", "sms": "marketing_sms_opt_in"}


def marketing(channel: str, user_id: UUID) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": channel,
        "family": "otp.verify_phone",
        "payload": otp_payload("1", expires_min=5, tenant_name="Alpha"),
        "type": "marketing",
        "recipient_user_id": str(user_id),
        "mirror": False,
        "correlation_key": f"consent-{new_id()}",
    }
    if channel == "sms":
        body["to"] = "+201004445566"
    return body


async def endpoint(client: httpx.AsyncClient, world: World, action: str, channel: str) -> None:
    response = await client.post(
        f"/v1/notify/{action}",
        json={
            "subject_type": "user",
            "subject_id": str(world.a.admin_id),
            "channel": channel,
            "consent_source": "web_form",
        },
        headers=world.headers(world.a),
    )
    assert response.status_code == 201, response.text


async def switch(client: httpx.AsyncClient, world: World, channel: str, on: bool) -> None:
    response = await client.put(PREFS, json={SWITCH[channel]: on}, headers=world.headers(world.a))
    assert response.status_code == 200, response.text
    assert response.json()[SWITCH[channel]] is on


async def send(client: httpx.AsyncClient, world: World, channel: str) -> httpx.Response:
    return await client.post(
        URL, json=marketing(channel, world.a.admin_id), headers=world.headers(world.a)
    )


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_turning_the_switch_off_after_an_opt_in_refuses_marketing(
    client: httpx.AsyncClient, world: World, channel: str
) -> None:
    await endpoint(client, world, "opt-in", channel)
    assert (await send(client, world, channel)).status_code == 202
    await switch(client, world, channel, False)
    refused = await send(client, world, channel)
    assert refused.status_code == 422
    assert error_code(refused) == "CONSENT_REQUIRED"
    assert refused.json()["error"]["details"]["reason"] == "opted_out"


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_turning_the_switch_on_after_an_opt_out_allows_marketing(
    client: httpx.AsyncClient, world: World, channel: str
) -> None:
    await endpoint(client, world, "opt-out", channel)
    assert (await send(client, world, channel)).status_code == 422
    await switch(client, world, channel, True)
    accepted = await send(client, world, channel)
    assert accepted.status_code == 202, accepted.text


async def test_marketing_sms_to_a_user_needs_the_switch(
    client: httpx.AsyncClient, world: World
) -> None:
    refused = await send(client, world, "sms")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["reason"] == "no_opt_in"
    await switch(client, world, "sms", True)
    assert (await send(client, world, "sms")).status_code == 202


async def test_an_endpoint_opt_in_shows_on_the_switch(
    client: httpx.AsyncClient, world: World
) -> None:
    await endpoint(client, world, "opt-in", "email")
    prefs = await client.get(PREFS, headers=world.headers(world.a))
    assert prefs.json()["marketing_email_opt_in"] is True
    await endpoint(client, world, "opt-out", "email")
    prefs = await client.get(PREFS, headers=world.headers(world.a))
    assert prefs.json()["marketing_email_opt_in"] is False
