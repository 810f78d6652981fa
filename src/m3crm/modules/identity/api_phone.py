"""JSON API of phone verification (spec Section 1 §4 "Phone Verification", §8) and of the
signed-in user's own profile (`/v1/me/profile`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from m3crm.kernel.auth import AuthSubject, DbSession, Subject, require
from m3crm.kernel.errors import (
    InvalidTransition,
    MonthlyCapReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    RateLimited,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.inputs import StorableModel
from m3crm.kernel.web.errors import json_error_body
from m3crm.modules.identity import phone
from m3crm.modules.identity.api_twofa import Box
from m3crm.modules.identity.phone import (
    InvalidPhoneCode,
    PhoneCodeRefused,
    ProfileView,
    Started,
)
from m3crm.modules.identity.work_codes import WORK_CODE_FIELDS, WORK_CODE_PATTERN
from m3crm.modules.notify.consent import ConsentRequired
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.dispatch import TemplateMissing

router = APIRouter(
    tags=["phone verification"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)

PhoneStarter = Annotated[AuthSubject, Depends(require("phone.verify.start"))]
PhoneConfirmer = Annotated[AuthSubject, Depends(require("phone.verify.confirm"))]

E164 = Field(min_length=1, max_length=32, description="The number, in international format.")


class PhoneStartIn(StorableModel):
    e164: str = E164
    channel: Literal["sms", "whatsapp"]


class PhoneResendIn(StorableModel):
    verification_id: UUID


class PhoneConfirmIn(StorableModel):
    e164: str = E164
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code received.")


class PhoneVerificationOut(BaseModel):
    verification_id: UUID
    e164: str
    channel: Literal["sms", "whatsapp"]
    expires_at: datetime
    resend_after: datetime


class PhoneVerifiedOut(BaseModel):
    e164: str
    country: str | None = Field(description="ISO 3166 region of the number; null if none owns it")
    verified_at: datetime


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str
    full_name: str
    locale: str
    phone_e164: str | None
    phone_verified_at: datetime | None
    phone_country: str | None
    job_title_code: str | None
    department_code: str | None


class ProfilePatch(StorableModel):
    """`job_title_code` / `department_code`: a code of `GET /v1/dictionaries/job-titles`
    / `departments` (422 when unknown or inactive); `null` clears it."""

    full_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"\S")
    locale: Literal["en", "ar"] | None = None
    job_title_code: str | None = Field(default=None, pattern=WORK_CODE_PATTERN)
    department_code: str | None = Field(default=None, pattern=WORK_CODE_PATTERN)

    def work_codes(self) -> dict[str, str | None]:
        """The work-code fields the body gives (an explicit `null` clears one)."""
        return {f: getattr(self, f) for f in WORK_CODE_FIELDS if f in self.model_fields_set}


def _verification_out(started: Started) -> PhoneVerificationOut:
    v = started.verification
    return PhoneVerificationOut(
        verification_id=v.id,
        e164=v.e164,
        channel="whatsapp" if v.channel == "whatsapp" else "sms",
        expires_at=v.expires_at,
        resend_after=started.resend_after,
    )


def _refusal(request: Request, refused: PhoneCodeRefused) -> Response:
    """Answer a refusal *without raising*, so the request's transaction commits the
    counted attempt (or the expired mark) it records."""
    body = json_error_body(
        refused.code,
        refused.message,
        refused.details,
        getattr(request.state, "request_id", None),
    )
    return Response(body, status_code=refused.status_code, media_type="application/json")


_SEND_ERRORS = (PlanRequired, MonthlyCapReached, RateLimited, ConsentRequired, TemplateMissing)


@router.post(
    "/v1/auth/phone/verify/start",
    response_model=PhoneVerificationOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(*_SEND_ERRORS),
)
async def start_verification(
    body: PhoneStartIn, session: DbSession, subject: PhoneStarter, notifier: NotifierDep, box: Box
) -> PhoneVerificationOut:
    """Send a 6-digit code (valid 10 minutes) by SMS or WhatsApp; at most 3 per hour."""
    started = await phone.start(session, box, subject, notifier, body.e164, body.channel)
    return _verification_out(started)


@router.post(
    "/v1/auth/phone/verify/resend",
    response_model=PhoneVerificationOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(NotFound, InvalidTransition, *_SEND_ERRORS),
)
async def resend_verification(
    body: PhoneResendIn, session: DbSession, subject: PhoneStarter, notifier: NotifierDep, box: Box
) -> PhoneVerificationOut:
    """A new code for the same verification; at most once a minute."""
    started = await phone.resend(session, box, subject, notifier, body.verification_id)
    return _verification_out(started)


@router.post(
    "/v1/auth/phone/verify/confirm",
    response_model=PhoneVerifiedOut,
    responses={
        **error_responses(NotFound),
        422: error_responses(InvalidPhoneCode)[422]
        | {
            "description": "Invalid input, wrong code (`AUTH_2FA_INVALID_CODE`, details "
            "`attempts_left`), expired code (`OTP_EXPIRED`) or too many wrong codes "
            "(`OTP_ATTEMPTS_EXCEEDED`)."
        },
    },
)
async def confirm_verification(
    body: PhoneConfirmIn,
    request: Request,
    session: DbSession,
    subject: PhoneConfirmer,
    box: Box,
) -> PhoneVerifiedOut | Response:
    try:
        verification = await phone.confirm(session, box, subject, body.e164, body.code)
    except PhoneCodeRefused as refused:
        return _refusal(request, refused)
    profile = await phone.read_profile(session, subject)
    assert profile.phone_verified_at is not None
    return PhoneVerifiedOut(
        e164=verification.e164,
        country=profile.phone_country,
        verified_at=profile.phone_verified_at,
    )


@router.delete(
    "/v1/auth/phone/verify/cancel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(NotFound),
)
async def cancel_verification(session: DbSession, subject: PhoneStarter) -> Response:
    """Revoke the pending verification; 404 when none is pending."""
    await phone.cancel(session, subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/me/profile", response_model=ProfileOut, tags=["profile"])
async def get_profile(session: DbSession, subject: Subject) -> ProfileView:
    return await phone.read_profile(session, subject)


@router.patch("/v1/me/profile", response_model=ProfileOut, tags=["profile"])
async def patch_profile(body: ProfilePatch, session: DbSession, subject: Subject) -> ProfileView:
    return await phone.update_profile(
        session, subject, full_name=body.full_name, locale=body.locale, work_codes=body.work_codes()
    )
