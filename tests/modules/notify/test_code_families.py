"""The code families carry the spec's OTP payload (Section 1 §8): `{code, expires_min,
app_name, tenant_name}` in every seeded template (English and Arabic, every channel),
required when sending, and nothing of the old `{code, minutes}` shape left."""

from __future__ import annotations

import httpx
import pytest

from m3crm.modules.notify.catalog import SEEDS, Seed, otp_payload
from m3crm.modules.notify.rendering import render, undeclared_variables
from tests.conftest import World, error_code

CODE_FAMILIES = ("otp.verify_phone", "contact.verify_email")
SPEC_VARIABLES = {"code", "expires_min", "app_name", "tenant_name"}
CODE_SEEDS = [seed for seed in SEEDS if seed.family in CODE_FAMILIES]


def test_every_code_template_declares_exactly_the_spec_variables() -> None:
    assert {(s.family, s.channel.value, s.locale) for s in CODE_SEEDS} >= {
        ("otp.verify_phone", channel, locale)
        for channel in ("sms", "whatsapp", "email", "inbox")
        for locale in ("en", "ar")
    }
    for seed in CODE_SEEDS:
        assert seed.variables == {name: {"required": True} for name in SPEC_VARIABLES}
        assert undeclared_variables((seed.subject, seed.body), seed.variables) == {}
        assert "minutes }}" not in seed.body and "minutes or" not in seed.body


@pytest.mark.parametrize("seed", [s for s in CODE_SEEDS if s.channel.value != "inbox"],
                         ids=lambda s: f"{s.code}.{s.locale}")  # fmt: skip
def test_code_templates_say_the_code_workspace_and_expiry(seed: Seed) -> None:
    payload = otp_payload("482913", expires_min=7, tenant_name="Nile Crest Realty")
    text = render(subject=seed.subject, body=seed.body, body_html=None, payload=payload)
    assert "482913" in text.text and "Nile Crest Realty" in text.text and " 7 " in text.text
    assert "M3CoreCRM" in text.text + (text.subject or "")


def test_otp_payload_is_the_spec_shape() -> None:
    assert otp_payload("123456", expires_min=10, tenant_name="Alpha") == {
        "code": "123456", "expires_min": 10, "app_name": "M3CoreCRM", "tenant_name": "Alpha"
    }  # fmt: skip


@pytest.mark.parametrize("missing", sorted(SPEC_VARIABLES))
async def test_a_send_without_a_spec_variable_is_refused(
    client: httpx.AsyncClient, world: World, missing: str
) -> None:
    payload = otp_payload("482913", expires_min=10, tenant_name="Alpha")
    del payload[missing]
    body = {"channel": "sms", "to": "+201001234567", "family": "otp.verify_phone",
            "payload": payload, "mirror": False}  # fmt: skip
    response = await client.post("/v1/notify/dispatch", json=body, headers=world.headers(world.a))
    assert response.status_code == 422
    assert error_code(response) == "VALIDATION_ERROR"
    assert f"payload.{missing}" in response.json()["error"]["details"]["fields"]
