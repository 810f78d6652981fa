"""Two-factor sign-in: TOTP set-up/confirm/disable, backup codes, replay refusal,
SMS/WhatsApp toggles, the security page, and the functions the sign-in flow calls."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import AuditLog
from m3crm.kernel.auth import ACCESS_COOKIE, AuthSubject, load_subject
from m3crm.kernel.crypto import SecretBox
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tenancy.models import User
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.identity import twofa
from m3crm.modules.identity.models import UserProfile
from m3crm.modules.identity.secrets import hash_password
from tests.conftest import World, error_code
from tests.factories import SeededTenant

PASSWORD = "correct horse battery staple"
CODE_SHAPE = re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}$")
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)


# --- helpers ----------------------------------------------------------------------------


async def with_password(session: AsyncSession, tenant: SeededTenant, user_id: UUID) -> None:
    await bind_tenant(session, tenant.id, user_id)
    user = await session.get(User, (tenant.id, user_id))
    assert user is not None
    user.password_hash = hash_password(PASSWORD)
    await session.flush()


async def verified_phone(
    session: AsyncSession, tenant: SeededTenant, user_id: UUID, *, verified: bool = True
) -> UserProfile:
    await bind_tenant(session, tenant.id, user_id)
    profile = UserProfile(
        tenant_id=tenant.id,
        user_id=user_id,
        phone_e164="+201001234567",
        phone_verified_at=datetime.now(UTC) if verified else None,
    )
    session.add(profile)
    await session.flush()
    return profile


async def subject_of(session: AsyncSession, tenant: SeededTenant, user_id: UUID) -> AuthSubject:
    subject = await load_subject(session, tenant.id, user_id)
    assert subject is not None
    return subject


def box(world: World) -> SecretBox:
    return SecretBox(world.settings.secrets_key.get_secret_value())


def cookie(world: World, tenant: SeededTenant | None = None) -> dict[str, str]:
    tenant = tenant or world.a
    token = mint_access_token(world.settings, tenant_id=tenant.id, user_id=tenant.admin_id)
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}


def htmx(world: World, tenant: SeededTenant | None = None) -> dict[str, str]:
    return {**cookie(world, tenant), "HX-Request": "true"}


def other_code(secret: str, when: datetime) -> str:
    """A six-digit code valid in none of the steps around `when`."""
    totp = pyotp.TOTP(secret)
    taken = {totp.at(when + k * STEP) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)


async def enable_via_api(client: httpx.AsyncClient, world: World) -> tuple[str, str, list[str]]:
    """Set up and confirm TOTP for tenant A's admin: (secret, used code, backup codes)."""
    setup = await client.post("/v1/auth/totp/setup", headers=world.headers(world.a))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    code = pyotp.TOTP(secret).now()
    confirm = await client.post(
        "/v1/auth/totp/confirm", json={"code": code}, headers=world.headers(world.a)
    )
    assert confirm.status_code == 200, confirm.text
    return secret, code, confirm.json()["backup_codes"]


async def actions(session: AsyncSession, tenant: SeededTenant, user_id: UUID) -> list[str]:
    await bind_tenant(session, tenant.id, user_id)
    rows = await session.execute(
        select(AuditLog.action)
        .where(AuditLog.tenant_id == tenant.id, AuditLog.actor_user_id == user_id)
        .where(AuditLog.action.like("twofa.%"))
        .order_by(AuditLog.occurred_at, AuditLog.id)
    )
    return list(rows.scalars())


# --- guards -------------------------------------------------------------------------------

ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/auth/totp/setup", None),
    ("POST", "/v1/auth/totp/confirm", {"code": "123456"}),
    ("POST", "/v1/auth/totp/disable", {"password": PASSWORD, "code": "123456"}),
    ("POST", "/v1/auth/twofa/backup-codes/regenerate", {"password": PASSWORD}),
    ("GET", "/v1/auth/twofa", None),
    ("POST", "/v1/auth/twofa/sms/enable", None),
    ("POST", "/v1/auth/twofa/sms/disable", None),
    ("POST", "/v1/auth/twofa/whatsapp/enable", None),
    ("POST", "/v1/auth/twofa/whatsapp/disable", None),
    ("POST", "/v1/auth/2fa/totp/issue", None),
    ("POST", "/v1/auth/2fa/totp/verify", {"code": "123456"}),
]


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
async def test_anonymous_is_refused(
    client: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, url, json=body)
    assert response.status_code == 401
    assert error_code(response) == "AUTH_INVALID_CREDENTIALS"


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
async def test_user_without_permission_is_refused(
    client: httpx.AsyncClient, world: World, method: str, url: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(
        method, url, json=body, headers=world.headers(world.a, "member")
    )
    assert response.status_code == 403
    assert error_code(response) == "PERMISSION_DENIED"


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_channel_needs_the_plan_feature(
    client: httpx.AsyncClient, world: World, session: AsyncSession, channel: str
) -> None:
    await verified_phone(session, world.b, world.b.admin_id)
    response = await client.post(f"/v1/auth/twofa/{channel}/enable", headers=world.headers(world.b))
    assert response.status_code == 402
    assert error_code(response) == "PLAN_REQUIRED"
    assert response.json()["error"]["details"]["feature"] == f"twofa.{channel}"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/v1/auth/totp/confirm", {}, "code"),
        ("/v1/auth/totp/confirm", {"code": "12ab56"}, "code"),
        ("/v1/auth/totp/confirm", {"code": "1234567"}, "code"),
        ("/v1/auth/totp/confirm", {"code": "123456", "extra": 1}, "extra"),
        ("/v1/auth/totp/disable", {"code": "123456"}, "password"),
        ("/v1/auth/totp/disable", {"password": PASSWORD}, "code"),
        ("/v1/auth/totp/disable", {"password": "", "code": "123456"}, "password"),
        ("/v1/auth/twofa/backup-codes/regenerate", {}, "password"),
        ("/v1/auth/2fa/totp/verify", {"code": 123}, "code"),
    ],
)
async def test_malformed_bodies_name_the_field(
    client: httpx.AsyncClient, world: World, url: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(url, json=body, headers=world.headers(world.a))
    assert response.status_code == 422, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert field in response.json()["error"]["details"]["fields"]


async def test_unknown_channel_is_refused(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post("/v1/auth/twofa/email/enable", headers=world.headers(world.a))
    assert response.status_code == 404


# --- TOTP end to end ----------------------------------------------------------------------


async def test_totp_end_to_end(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await with_password(session, world.a, world.a.admin_id)
    headers = world.headers(world.a)

    first = await client.post("/v1/auth/totp/setup", headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"otpauth_uri", "qr_png_data_url", "secret"}
    assert body["otpauth_uri"].startswith("otpauth://totp/M3CoreCRM:admin%40alpha.test?")
    assert "issuer=M3CoreCRM" in body["otpauth_uri"]
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_png_data_url"].startswith("data:image/png;base64,")

    # An unconfirmed secret is replaced by a new set-up; the old one no longer confirms.
    second = await client.post("/v1/auth/totp/setup", headers=headers)
    secret = second.json()["secret"]
    assert secret != body["secret"]
    stale = await client.post(
        "/v1/auth/totp/confirm", json={"code": pyotp.TOTP(body["secret"]).now()}, headers=headers
    )
    if pyotp.TOTP(body["secret"]).now() != pyotp.TOTP(secret).now():
        assert stale.status_code == 422
        assert error_code(stale) == "AUTH_2FA_INVALID_CODE"
        assert "code" in stale.json()["error"]["details"]["fields"]

    code = pyotp.TOTP(secret).now()
    confirm = await client.post("/v1/auth/totp/confirm", json={"code": code}, headers=headers)
    assert confirm.status_code == 200, confirm.text
    codes = confirm.json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(CODE_SHAPE.match(c) for c in codes)

    status = await client.get("/v1/auth/twofa", headers=headers)
    assert status.json() == {
        "totp_enabled": True,
        "backup_codes_left": 10,
        "sms_enabled": False,
        "whatsapp_enabled": False,
        "phone_verified": False,
    }

    again = await client.post("/v1/auth/totp/setup", headers=headers)
    assert again.status_code == 409
    assert error_code(again) == "INVALID_TRANSITION"

    # The code that confirmed is spent: replaying it does not re-authenticate.
    replay = await client.post(
        "/v1/auth/totp/disable", json={"password": PASSWORD, "code": code}, headers=headers
    )
    assert replay.status_code == 422
    assert error_code(replay) == "AUTH_2FA_INVALID_CODE"
    assert "code" in replay.json()["error"]["details"]["fields"]

    # Regenerating needs the password and invalidates the old codes.
    wrong = await client.post(
        "/v1/auth/twofa/backup-codes/regenerate", json={"password": "nope"}, headers=headers
    )
    assert wrong.status_code == 422
    assert "password" in wrong.json()["error"]["details"]["fields"]
    fresh = await client.post(
        "/v1/auth/twofa/backup-codes/regenerate", json={"password": PASSWORD}, headers=headers
    )
    assert fresh.status_code == 200
    new_codes = fresh.json()["backup_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    old = await client.post(
        "/v1/auth/totp/disable", json={"password": PASSWORD, "code": codes[0]}, headers=headers
    )
    assert old.status_code == 422 and "code" in old.json()["error"]["details"]["fields"]

    # Disabling needs the right password (and does not burn the code when it is wrong).
    bad_password = await client.post(
        "/v1/auth/totp/disable", json={"password": "wrong", "code": new_codes[0]}, headers=headers
    )
    assert bad_password.status_code == 422
    assert error_code(bad_password) == "AUTH_2FA_INVALID_CODE"
    assert "password" in bad_password.json()["error"]["details"]["fields"]
    left = await client.get("/v1/auth/twofa", headers=headers)
    assert left.json()["backup_codes_left"] == 10

    off = await client.post(
        "/v1/auth/totp/disable",
        json={"password": PASSWORD, "code": new_codes[0].upper()},
        headers=headers,
    )
    assert off.status_code == 200, off.text
    assert off.json()["totp_enabled"] is False
    assert off.json()["backup_codes_left"] == 0
    assert await twofa.second_factor_methods(session, world.a.admin_id) == []
    assert not await twofa.consume_backup_code(session, box(world), world.a.admin_id, new_codes[1])

    again_off = await client.post(
        "/v1/auth/totp/disable", json={"password": PASSWORD, "code": "123456"}, headers=headers
    )
    assert again_off.status_code == 409

    assert await actions(session, world.a, world.a.admin_id) == [
        "twofa.totp.setup_started",
        "twofa.totp.setup_started",
        "twofa.enabled",
        "twofa.backup_codes.regenerated",
        "twofa.disabled",
    ]


async def test_disable_with_a_current_totp_code(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await with_password(session, world.a, world.a.admin_id)
    secret, used, _codes = await enable_via_api(client, world)
    totp = pyotp.TOTP(secret)
    # The next step's code is inside the window and was never used.
    code = totp.at(datetime.now(UTC) + STEP)
    if code == used:
        pytest.skip("consecutive steps share a code (1 in a million)")
    response = await client.post(
        "/v1/auth/totp/disable",
        json={"password": PASSWORD, "code": code},
        headers=world.headers(world.a),
    )
    assert response.status_code == 200, response.text


async def test_confirm_refuses_a_wrong_code_and_needs_a_setup(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    none = await client.post("/v1/auth/totp/confirm", json={"code": "123456"}, headers=headers)
    assert none.status_code == 409
    assert error_code(none) == "INVALID_TRANSITION"

    setup = await client.post("/v1/auth/totp/setup", headers=headers)
    wrong = other_code(setup.json()["secret"], datetime.now(UTC))
    response = await client.post("/v1/auth/totp/confirm", json={"code": wrong}, headers=headers)
    assert response.status_code == 422
    assert error_code(response) == "AUTH_2FA_INVALID_CODE"
    assert response.json()["error"]["details"]["fields"]["code"]
    status = await client.get("/v1/auth/twofa", headers=headers)
    assert status.json()["totp_enabled"] is False


async def test_regenerate_needs_totp(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/v1/auth/twofa/backup-codes/regenerate",
        json={"password": PASSWORD},
        headers=world.headers(world.a),
    )
    assert response.status_code == 409


async def test_appendix_aliases(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    issued = await client.post("/v1/auth/2fa/totp/issue", headers=headers)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert set(body) == {"otpauthUrl", "secret", "qrPngDataUrl"}
    assert body["otpauthUrl"].startswith("otpauth://totp/")
    assert body["qrPngDataUrl"].startswith("data:image/png;base64,")

    verified = await client.post(
        "/v1/auth/2fa/totp/verify",
        json={"code": pyotp.TOTP(body["secret"]).now()},
        headers=headers,
    )
    assert verified.status_code == 200, verified.text
    out = verified.json()
    assert out["ok"] is True and out["recoveryCodesIssued"] is True
    assert len(out["recoveryCodes"]) == 10


async def test_tenants_do_not_see_each_others_2fa(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await enable_via_api(client, world)
    other = await client.get("/v1/auth/twofa", headers=world.headers(world.b))
    assert other.json()["totp_enabled"] is False
    await bind_tenant(session, world.b.id, world.b.admin_id)
    assert await twofa.second_factor_methods(session, world.a.admin_id) == []


# --- SMS / WhatsApp toggles -----------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_channel_needs_a_verified_phone(
    client: httpx.AsyncClient, world: World, session: AsyncSession, channel: str
) -> None:
    headers = world.headers(world.a)
    refused = await client.post(f"/v1/auth/twofa/{channel}/enable", headers=headers)
    assert refused.status_code == 409
    assert error_code(refused) == "PHONE_NOT_VERIFIED"

    await verified_phone(session, world.a, world.a.admin_id)
    enabled = await client.post(f"/v1/auth/twofa/{channel}/enable", headers=headers)
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()[f"{channel}_enabled"] is True
    assert enabled.json()["phone_verified"] is True
    assert await twofa.second_factor_methods(session, world.a.admin_id) == [channel]

    disabled = await client.post(f"/v1/auth/twofa/{channel}/disable", headers=headers)
    assert disabled.status_code == 200
    assert disabled.json()[f"{channel}_enabled"] is False
    assert await actions(session, world.a, world.a.admin_id) == [
        "twofa.enabled",
        "twofa.disabled",
    ]


async def test_unverified_phone_is_not_enough(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await verified_phone(session, world.a, world.a.admin_id, verified=False)
    response = await client.post("/v1/auth/twofa/sms/enable", headers=world.headers(world.a))
    assert response.status_code == 409
    assert error_code(response) == "PHONE_NOT_VERIFIED"


async def test_disabling_a_channel_needs_no_plan(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post("/v1/auth/twofa/sms/disable", headers=world.headers(world.b))
    assert response.status_code == 200
    assert response.json()["sms_enabled"] is False


# --- the functions the sign-in flow calls ----------------------------------------------------


async def enabled_at_t0(
    session: AsyncSession, world: World
) -> tuple[AuthSubject, pyotp.TOTP, list[str]]:
    subject = await subject_of(session, world.a, world.a.admin_id)
    setup = await twofa.start_totp_setup(session, box(world), subject)
    totp = pyotp.TOTP(setup.secret)
    codes = await twofa.confirm_totp(session, box(world), subject, totp.at(T0), now=T0)
    return subject, totp, codes


async def test_verify_totp_accepts_each_step_once(session: AsyncSession, world: World) -> None:
    _subject, totp, _codes = await enabled_at_t0(session, world)
    user, sb = world.a.admin_id, box(world)

    assert not await twofa.verify_totp(session, sb, user, totp.at(T0), now=T0)  # confirm's step
    t1 = T0 + STEP
    assert await twofa.verify_totp(session, sb, user, totp.at(t1), now=t1)
    assert not await twofa.verify_totp(session, sb, user, totp.at(t1), now=t1)  # replay

    # A code of the previous step is accepted once (valid_window=1)...
    t3 = T0 + 3 * STEP
    assert await twofa.verify_totp(session, sb, user, totp.at(T0 + 2 * STEP), now=t3)
    # ...after which a code of the same or an earlier step is a replay.
    assert not await twofa.verify_totp(session, sb, user, totp.at(T0 + 2 * STEP), now=t3)
    # The next step's code (clock skew) is accepted, with spaces too.
    code = totp.at(T0 + 4 * STEP)
    assert await twofa.verify_totp(session, sb, user, f"{code[:3]} {code[3:]}", now=t3)
    assert not await twofa.verify_totp(session, sb, user, totp.at(t3), now=t3)  # earlier step

    far = T0 + 20 * STEP
    assert not await twofa.verify_totp(session, sb, user, totp.at(far - 2 * STEP), now=far)
    assert not await twofa.verify_totp(session, sb, user, other_code(totp.secret, far), now=far)
    for junk in ("", "12345", "1234567", "abcdef", "12 34 5"):
        assert not await twofa.verify_totp(session, sb, user, junk, now=far)
    assert await twofa.verify_totp(session, sb, user, totp.at(far), now=far)


async def test_verify_totp_needs_an_enabled_secret_under_this_key(
    session: AsyncSession, world: World
) -> None:
    subject = await subject_of(session, world.a, world.a.admin_id)
    sb = box(world)
    assert not await twofa.verify_totp(session, sb, subject.user_id, "123456", now=T0)
    setup = await twofa.start_totp_setup(session, sb, subject)
    pending = pyotp.TOTP(setup.secret).at(T0)
    assert not await twofa.verify_totp(session, sb, subject.user_id, pending, now=T0)

    await twofa.confirm_totp(session, sb, subject, pending, now=T0)
    later = T0 + STEP
    code = pyotp.TOTP(setup.secret).at(later)
    assert not await twofa.verify_totp(
        session, SecretBox("another key"), subject.user_id, code, now=later
    )
    assert await twofa.verify_totp(session, sb, subject.user_id, code, now=later)


async def test_backup_codes_work_once(session: AsyncSession, world: World) -> None:
    _subject, _totp, codes = await enabled_at_t0(session, world)
    user = world.a.admin_id
    assert await twofa.consume_backup_code(session, box(world), user, codes[0])
    assert not await twofa.consume_backup_code(session, box(world), user, codes[0])

    plain = codes[1].replace("-", "")
    assert await twofa.consume_backup_code(
        session, box(world), user, f" {plain[:4].upper()} {plain[4:]} "
    )
    assert not await twofa.consume_backup_code(session, box(world), user, codes[1])
    for junk in ("", "abcd-efg", "zzzz-zzzz", codes[2] + "x", "a" * 200):
        assert not await twofa.consume_backup_code(session, box(world), user, junk)

    assert (await twofa.status(session, _subject)).backup_codes_left == 8


async def test_second_factor_methods(session: AsyncSession, world: World) -> None:
    user = world.a.admin_id
    await bind_tenant(session, world.a.id, user)
    assert await twofa.second_factor_methods(session, user) == []

    subject, _totp, codes = await enabled_at_t0(session, world)
    assert await twofa.second_factor_methods(session, user) == ["totp", "backup"]
    for code in codes:
        assert await twofa.consume_backup_code(session, box(world), user, code)
    assert await twofa.second_factor_methods(session, user) == ["totp"]

    profile = await verified_phone(session, world.a, user)
    await twofa.set_channel(session, subject, twofa.Channel.SMS, enabled=True)
    await twofa.set_channel(session, subject, twofa.Channel.WHATSAPP, enabled=True)
    assert await twofa.second_factor_methods(session, user) == ["totp", "sms", "whatsapp"]

    # A phone that is no longer verified does not count, even with the toggles on.
    profile.phone_verified_at = None
    await session.flush()
    assert await twofa.second_factor_methods(session, user) == ["totp"]


def test_secret_box() -> None:
    sealed = SecretBox("k1").seal(b"JBSWY3DPEHPK3PXP")
    assert sealed != b"JBSWY3DPEHPK3PXP"
    assert SecretBox("k1").open(sealed) == b"JBSWY3DPEHPK3PXP"
    assert SecretBox("k2").open(sealed) is None
    assert SecretBox("k1").open(b"not a token") is None
    with pytest.raises(ValueError, match="non-empty"):
        SecretBox("")


def test_backup_codes_avoid_ambiguous_characters() -> None:
    codes = {twofa.new_backup_code() for _ in range(200)}
    assert all(CODE_SHAPE.match(c) for c in codes)
    assert not any(set(c) & set("01ilo") for c in codes)


# --- the security page ---------------------------------------------------------------------


async def test_security_page_renders(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/account/security", headers=cookie(world))
    assert page.status_code == 200
    assert '<html lang="en" dir="ltr"' in page.text
    assert 'id="totp-panel"' in page.text and 'id="channels-panel"' in page.text
    assert 'hx-post="/account/security/totp/setup"' in page.text


async def test_security_page_guards(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get("/account/security", headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Faccount%2Fsecurity"
    api = await client.get("/account/security")
    assert api.status_code == 401
    member = mint_access_token(world.settings, tenant_id=world.a.id, user_id=world.a.member_id)
    refused = await client.get(
        "/account/security", headers={"Cookie": f"{ACCESS_COOKIE}={member}", "Accept": "text/html"}
    )
    assert refused.status_code == 403
    no_htmx = await client.post("/account/security/totp/setup", headers=cookie(world))
    assert no_htmx.status_code == 403


async def test_security_page_setup_confirm_and_disable(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    await with_password(session, world.a, world.a.admin_id)
    setup = await client.post("/account/security/totp/setup", headers=htmx(world))
    assert setup.status_code == 200
    assert "<img" in setup.text
    assert 'src="data:image/png;base64,' in setup.text
    assert re.search(r'<img [^>]*alt="[^"]+"', setup.text)
    match = re.search(r'<code dir="ltr"[^>]*>([A-Z2-7 ]+)</code>', setup.text)
    assert match
    secret = match.group(1).replace(" ", "")
    assert len(secret) == 32

    wrong = other_code(secret, datetime.now(UTC))
    refused = await client.post(
        "/account/security/totp/confirm", data={"code": wrong}, headers=htmx(world)
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text and "<img" in refused.text

    code = pyotp.TOTP(secret).now()
    confirmed = await client.post(
        "/account/security/totp/confirm", data={"code": code}, headers=htmx(world)
    )
    assert confirmed.status_code == 200, confirmed.text
    shown = re.findall(r">([a-z2-9]{4}-[a-z2-9]{4})</li>", confirmed.text)
    assert len(shown) == 10
    assert "I saved them" in confirmed.text

    page = await client.get("/account/security", headers=cookie(world))
    assert "10 backup codes left" in page.text

    regenerated = await client.post(
        "/account/security/backup-codes/regenerate",
        data={"password": "wrong"},
        headers=htmx(world),
    )
    assert regenerated.status_code == 422
    assert 'id="regenerate-password-error"' in regenerated.text

    off = await client.post(
        "/account/security/totp/disable",
        data={"password": PASSWORD, "code": shown[0]},
        headers=htmx(world),
    )
    assert off.status_code == 200, off.text
    assert 'hx-post="/account/security/totp/setup"' in off.text


async def test_security_page_channels(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    free = await client.get("/account/security", headers=cookie(world, world.b))
    assert free.status_code == 200
    assert "Your plan does not include this feature." in free.text
    assert "disabled aria-describedby" in free.text

    await verified_phone(session, world.a, world.a.admin_id)
    toggled = await client.post("/account/security/channels/sms/enable", headers=htmx(world))
    assert toggled.status_code == 200, toggled.text
    assert 'hx-post="/account/security/channels/sms/disable"' in toggled.text


async def test_code_guessing_is_rate_limited_per_account(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    headers = world.headers(world.a)
    original = app.state.settings
    limits = {**original.auth_rate_limits, "twofa.account": "2/minute"}
    app.state.settings = original.model_copy(update={"auth_rate_limits": limits})
    try:
        statuses = [
            (
                await client.post(
                    "/v1/auth/twofa/backup-codes/regenerate",
                    json={"password": "wrong-password-1"},
                    headers=headers,
                )
            ).status_code
            for _ in range(3)
        ]
    finally:
        app.state.settings = original
    assert statuses[-1] == 429
