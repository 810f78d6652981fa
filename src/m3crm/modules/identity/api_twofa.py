"""JSON API of two-factor sign-in (spec Section 1 §4 "2FA", Appendix A §4).

Every route acts on the caller's own account (`twofa.manage.self`); TOTP routes also need
the plan feature `twofa.totp` (402), SMS/WhatsApp enabling needs `twofa.<channel>`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from m3crm.kernel.auth import AuthSubject, DbSession, entitlements_of, get_settings_dep, require
from m3crm.kernel.crypto import SecretBox, secret_box
from m3crm.kernel.errors import (
    InvalidTransition,
    NotAuthenticated,
    PermissionDenied,
    PlanRequired,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.inputs import StorableModel
from m3crm.modules.identity import twofa
from m3crm.modules.identity.api_auth import limit
from m3crm.modules.identity.twofa import Channel, InvalidCode, PhoneNotVerified
from m3crm.settings import Settings

TOTP_FEATURE = "twofa.totp"

TwoFactorManager = Annotated[AuthSubject, Depends(require("twofa.manage.self"))]


async def _totp_manager(subject: TwoFactorManager, session: DbSession) -> AuthSubject:
    """`twofa.manage.self` (403) first, then the plan feature `twofa.totp` (402)."""
    (await entitlements_of(session, subject)).require_feature(TOTP_FEATURE)
    return subject


TotpManager = Annotated[AuthSubject, Depends(_totp_manager)]


async def _box(settings: Annotated[Settings, Depends(get_settings_dep)]) -> SecretBox:
    return secret_box(settings)


Box = Annotated[SecretBox, Depends(_box)]

router = APIRouter(
    tags=["two-factor"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)

TOTP_ERRORS = error_responses(PlanRequired, InvalidTransition, InvalidCode)


# --- schemas ------------------------------------------------------------------------------

TotpCode = Annotated[str, Field(pattern=r"^\s*\d{3}\s?\d{3}\s*$", max_length=16)]
# A TOTP code or a backup code (`abcd-efgh`).
AnyCode = Annotated[str, Field(min_length=6, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")]
# Any text PostgreSQL-storable JSON can carry, except control characters.
Password = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^\x00-\x1f]+$")]


class TotpCodeIn(StorableModel):
    code: TotpCode


class DisableTotpIn(StorableModel):
    password: Password
    code: AnyCode


class PasswordIn(StorableModel):
    password: Password


class TotpSetupOut(BaseModel):
    otpauth_uri: str
    qr_png_data_url: str
    secret: str


class BackupCodesOut(BaseModel):
    backup_codes: list[str]


class TwoFactorStatusOut(BaseModel):
    totp_enabled: bool
    backup_codes_left: int
    sms_enabled: bool
    whatsapp_enabled: bool
    phone_verified: bool


class IssueOut(BaseModel):
    """Appendix A §4.1 field names."""

    otpauth_url: str = Field(serialization_alias="otpauthUrl")
    secret: str
    qr_png_data_url: str = Field(serialization_alias="qrPngDataUrl")


class VerifyOut(BaseModel):
    """Appendix A §4.2 field names; `recoveryCodes` carries the codes (shown once)."""

    ok: bool
    recovery_codes_issued: bool = Field(serialization_alias="recoveryCodesIssued")
    recovery_codes: list[str] = Field(serialization_alias="recoveryCodes")


def _status_out(value: twofa.TwoFactorStatus) -> TwoFactorStatusOut:
    return TwoFactorStatusOut(
        totp_enabled=value.totp_enabled,
        backup_codes_left=value.backup_codes_left,
        sms_enabled=value.sms_enabled,
        whatsapp_enabled=value.whatsapp_enabled,
        phone_verified=value.phone_verified,
    )


# --- TOTP ---------------------------------------------------------------------------------


async def code_attempts(request: Request, subject: TotpManager) -> None:
    """Codes and passwords checked here count against a per-account limit (guessing)."""
    await limit(request, "twofa.account", str(subject.user_id))


Attempt = Annotated[None, Depends(code_attempts)]


@router.post("/v1/auth/totp/setup", response_model=TotpSetupOut, responses=TOTP_ERRORS)
async def totp_setup(session: DbSession, subject: TotpManager, box: Box) -> TotpSetupOut:
    setup = await twofa.start_totp_setup(session, box, subject)
    return TotpSetupOut(
        otpauth_uri=setup.otpauth_uri, qr_png_data_url=setup.qr_png_data_url, secret=setup.secret
    )


@router.post("/v1/auth/totp/confirm", response_model=BackupCodesOut, responses=TOTP_ERRORS)
async def totp_confirm(
    body: TotpCodeIn, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> BackupCodesOut:
    codes = await twofa.confirm_totp(session, box, subject, body.code)
    return BackupCodesOut(backup_codes=codes)


@router.post("/v1/auth/totp/disable", response_model=TwoFactorStatusOut, responses=TOTP_ERRORS)
async def totp_disable(
    body: DisableTotpIn, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> TwoFactorStatusOut:
    await twofa.disable_totp(session, box, subject, password=body.password, code=body.code)
    return _status_out(await twofa.status(session, subject))


@router.post(
    "/v1/auth/twofa/backup-codes/regenerate", response_model=BackupCodesOut, responses=TOTP_ERRORS
)
async def backup_codes_regenerate(
    body: PasswordIn, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> BackupCodesOut:
    codes = await twofa.regenerate_backup_codes(session, box, subject, password=body.password)
    return BackupCodesOut(backup_codes=codes)


# Appendix A §4: the same operations under the appendix's paths and field names.


@router.post("/v1/auth/2fa/totp/issue", response_model=IssueOut, responses=TOTP_ERRORS)
async def totp_issue(session: DbSession, subject: TotpManager, box: Box) -> IssueOut:
    setup = await twofa.start_totp_setup(session, box, subject)
    return IssueOut(
        otpauth_url=setup.otpauth_uri, secret=setup.secret, qr_png_data_url=setup.qr_png_data_url
    )


@router.post("/v1/auth/2fa/totp/verify", response_model=VerifyOut, responses=TOTP_ERRORS)
async def totp_verify(
    body: TotpCodeIn, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> VerifyOut:
    codes = await twofa.confirm_totp(session, box, subject, body.code)
    return VerifyOut(ok=True, recovery_codes_issued=True, recovery_codes=codes)


# --- status and channel toggles -------------------------------------------------------------


@router.get("/v1/auth/twofa", response_model=TwoFactorStatusOut)
async def twofa_status(session: DbSession, subject: TwoFactorManager) -> TwoFactorStatusOut:
    return _status_out(await twofa.status(session, subject))


def _channel_routes(channel: Channel) -> None:
    """`POST /v1/auth/twofa/<channel>/enable|disable`: fixed paths (no path parameter)."""

    async def enable(session: DbSession, subject: TwoFactorManager) -> TwoFactorStatusOut:
        return _status_out(await twofa.set_channel(session, subject, channel, enabled=True))

    async def disable(session: DbSession, subject: TwoFactorManager) -> TwoFactorStatusOut:
        return _status_out(await twofa.set_channel(session, subject, channel, enabled=False))

    router.add_api_route(
        f"/v1/auth/twofa/{channel.value}/enable",
        enable,
        methods=["POST"],
        name=f"twofa_{channel.value}_enable",
        summary=f"Turn on {channel.value} sign-in codes",
        response_model=TwoFactorStatusOut,
        responses=error_responses(PlanRequired, PhoneNotVerified),
    )
    router.add_api_route(
        f"/v1/auth/twofa/{channel.value}/disable",
        disable,
        methods=["POST"],
        name=f"twofa_{channel.value}_disable",
        summary=f"Turn off {channel.value} sign-in codes",
        response_model=TwoFactorStatusOut,
    )


for _channel in Channel:
    _channel_routes(_channel)
