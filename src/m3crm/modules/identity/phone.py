"""Phone verification (spec Section 1 §4, §8) and the signed-in user's own profile.

Rules:
- The number is normalised to strict E.164 (422 on field `e164`); the code goes by SMS or
  WhatsApp (DECISIONS §1.8: WhatsApp alone is enough) through the notifications outbox,
  so plan features (402), consent and monthly caps apply, and the message is mirrored
  to the user's e-mail and inbox.
- A code is 6 digits, stored only as an HMAC keyed with its verification's id, valid
  10 minutes, and a verification allows 5 wrong attempts in all (a resend does not
  reset them); the 5th wrong attempt revokes it.
- At most 3 starts per user per rolling hour, at most one resend per minute (429
  `RATE_LIMIT` with `Retry-After`). A new start revokes the user's earlier pending ones.
- Every step is audited (`phone.verify.started|resent|failed|verified|cancelled`); the
  code is never logged, audited or returned.

Errors: a wrong code is 422 `AUTH_2FA_INVALID_CODE` (`details.attempts_left`); an expired
code 422 `OTP_EXPIRED` (422 rather than 409: like a wrong code, the client's answer is "ask
for a new one", not "the resource moved on"); the 5th wrong code and every confirmation
after it 422 `OTP_ATTEMPTS_EXCEEDED`; nothing pending for the number (never started,
cancelled, superseded, already verified) 404 `NOT_FOUND`; resending a verified or revoked
verification 409 `INVALID_TRANSITION`; cancelling with nothing pending 404.

Refusals that change state (a wrong attempt is counted, an expired code is marked) are
`PhoneCodeRefused`: they are raised *after* the change is flushed, and callers MUST catch
them and answer without rolling the transaction back — otherwise the attempt counter
would never grow and the code could be guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import EntityRef
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.crypto import SecretBox
from m3crm.kernel.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from m3crm.kernel.i18n import N_, SUPPORTED_LOCALES
from m3crm.kernel.ids import new_id
from m3crm.modules.identity import repository_phone as repo
from m3crm.modules.identity.models import PhoneVerification, PhoneVerificationStatus
from m3crm.modules.identity.secrets import code_matches, hash_code, new_code
from m3crm.modules.identity.work_codes import check_work_codes, set_work_codes
from m3crm.modules.notify.addresses import normalize_e164, phone_region
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel

CODE_TTL_MINUTES = 10
CODE_TTL = timedelta(minutes=CODE_TTL_MINUTES)
MAX_ATTEMPTS = 5
STARTS_PER_HOUR = 3
START_WINDOW = timedelta(hours=1)
RESEND_INTERVAL = timedelta(minutes=1)
FAMILY = "otp.verify_phone"
CHANNELS = (Channel.SMS, Channel.WHATSAPP)


# --- errors -------------------------------------------------------------------------


class NoPendingVerification(NotFound):
    default_message = N_("No verification is waiting for this number. Ask for a new code.")


class PhoneCodeRefused(DomainError):
    """A refusal raised after a state change was flushed: callers MUST catch it and
    answer without rolling back (see the module docstring)."""

    status_code = 422


class InvalidPhoneCode(PhoneCodeRefused):
    code = "AUTH_2FA_INVALID_CODE"
    default_message = N_("The code is not correct.")

    def __init__(self, attempts_left: int) -> None:
        super().__init__(details={"attempts_left": attempts_left})


class PhoneCodeExpired(PhoneCodeRefused):
    code = "OTP_EXPIRED"
    default_message = N_("The code has expired. Ask for a new one.")


class PhoneAttemptsExceeded(PhoneCodeRefused):
    code = "OTP_ATTEMPTS_EXCEEDED"
    default_message = N_("Too many wrong codes. Start the verification again.")

    def __init__(self) -> None:
        super().__init__(details={"max_attempts": MAX_ATTEMPTS})


# --- results ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    verification: PhoneVerification
    resend_after: datetime


@dataclass(frozen=True, slots=True)
class ProfileView:
    email: str
    full_name: str
    locale: str
    phone_e164: str | None
    phone_verified_at: datetime | None
    phone_country: str | None = None
    job_title_code: str | None = None
    department_code: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def resend_after(verification: PhoneVerification) -> datetime:
    return verification.last_sent_at + RESEND_INTERVAL


def phone_channel(value: str | Channel) -> Channel:
    """`sms` or `whatsapp`; 422 on field `channel` otherwise."""
    for channel in CHANNELS:
        if value == channel.value:
            return channel
    raise ValidationFailed({"channel": N_("Choose SMS or WhatsApp.")})


def _is_expired(verification: PhoneVerification, now: datetime) -> bool:
    return verification.status is PhoneVerificationStatus.EXPIRED or verification.expires_at <= now


async def _send(
    session: AsyncSession,
    subject: AuthSubject,
    notifier: Notifier,
    verification: PhoneVerification,
    code: str,
) -> None:
    await notifier.dispatch(
        session,
        subject,
        DispatchRequest(
            channel=Channel(verification.channel),
            to=verification.e164,
            family=FAMILY,
            payload=otp_payload(
                code, expires_min=CODE_TTL_MINUTES, tenant_name=subject.tenant.name
            ),
            recipient_user_id=subject.user_id,
            proves_phone=True,
            correlation_key=f"phone-verify:{verification.id}:{verification.sends}",
        ),
    )
    await audit.record(
        session,
        subject,
        "phone.verify.sent",
        EntityRef("phone_verification", verification.id),
        after={"channel": verification.channel, "send": verification.sends},
    )


# --- phone verification ---------------------------------------------------------------


async def start(
    session: AsyncSession,
    box: SecretBox,
    subject: AuthSubject,
    notifier: Notifier,
    e164: str,
    channel: str | Channel,
) -> Started:
    """Send a code to `e164`; earlier pending verifications of the user are revoked."""
    number = normalize_e164(e164, field="e164")
    chosen = phone_channel(channel)
    now = _now()
    count, oldest = await repo.starts_since(
        session, subject.tenant_id, subject.user_id, now - START_WINDOW
    )
    if count >= STARTS_PER_HOUR:
        raise RateLimited(_seconds_until((oldest or now) + START_WINDOW, now))
    revoked = await repo.revoke_pending(
        session, subject.tenant_id, subject.user_id, detail="superseded"
    )
    code = new_code()
    verification = PhoneVerification(
        tenant_id=subject.tenant_id,
        id=new_id(),
        user_id=subject.user_id,
        e164=number,
        channel=chosen.value,
        expires_at=now + CODE_TTL,
        attempts=0,
        status=PhoneVerificationStatus.PENDING,
        last_sent_at=now,
        sends=1,
    )
    verification.code_hash = hash_code(box, verification.id, code)
    session.add(verification)
    await session.flush()
    await _send(session, subject, notifier, verification, code)
    await audit.record(
        session,
        subject,
        "phone.verify.started",
        EntityRef("phone_verification", verification.id),
        after={
            "e164": number,
            "channel": chosen.value,
            "expires_at": verification.expires_at.isoformat(),
            "superseded": [str(i) for i in revoked],
        },
    )
    return Started(verification, resend_after(verification))


async def resend(
    session: AsyncSession,
    box: SecretBox,
    subject: AuthSubject,
    notifier: Notifier,
    verification_id: UUID,
) -> Started:
    """A fresh code for the user's own verification (new 10 minutes; attempts are kept).

    Another user's or tenant's id is 404; a verified or revoked one is 409; sooner than a
    minute after the last send is 429.
    """
    verification = await repo.owned_verification(
        session, subject.tenant_id, subject.user_id, verification_id
    )
    if verification is None:
        raise NotFound()
    if verification.status not in (
        PhoneVerificationStatus.PENDING,
        PhoneVerificationStatus.EXPIRED,
    ):
        raise InvalidTransition("phone_verification", verification.status.value, "pending")
    now = _now()
    wait_until = resend_after(verification)
    if now < wait_until:
        raise RateLimited(_seconds_until(wait_until, now))
    code = new_code()
    verification.code_hash = hash_code(box, verification.id, code)
    verification.status = PhoneVerificationStatus.PENDING
    verification.expires_at = now + CODE_TTL
    verification.last_sent_at = now
    verification.sends += 1
    await session.flush()
    await _send(session, subject, notifier, verification, code)
    await audit.record(
        session,
        subject,
        "phone.verify.resend",
        EntityRef("phone_verification", verification.id),
        after={
            "e164": verification.e164,
            "channel": verification.channel,
            "sends": verification.sends,
            "expires_at": verification.expires_at.isoformat(),
        },
    )
    return Started(verification, resend_after(verification))


async def _fail(
    session: AsyncSession, subject: AuthSubject, verification: PhoneVerification, reason: str
) -> None:
    await session.flush()
    await audit.record(
        session,
        subject,
        "phone.verify.failed",
        EntityRef("phone_verification", verification.id),
        after={
            "e164": verification.e164,
            "reason": reason,
            "attempts": verification.attempts,
            "status": verification.status.value,
        },
    )


async def confirm(
    session: AsyncSession, box: SecretBox, subject: AuthSubject, e164: str, code: str
) -> PhoneVerification:
    """Check `code` against the user's latest verification of `e164`; on success the
    number becomes the user's verified phone. Raises `PhoneCodeRefused` (state already
    flushed: the caller MUST NOT roll back) for a wrong, expired or exhausted code."""
    number = normalize_e164(e164, field="e164")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise ValidationFailed({"code": N_("Enter the 6-digit code.")})
    verification = await repo.latest_for_number(session, subject.tenant_id, subject.user_id, number)
    if verification is None or verification.status is PhoneVerificationStatus.VERIFIED:
        raise NoPendingVerification()
    if verification.status is PhoneVerificationStatus.REVOKED:
        if verification.attempts >= MAX_ATTEMPTS:
            raise PhoneAttemptsExceeded()
        raise NoPendingVerification()
    now = _now()
    if _is_expired(verification, now):
        if verification.status is not PhoneVerificationStatus.EXPIRED:
            verification.status = PhoneVerificationStatus.EXPIRED
            await _fail(session, subject, verification, "expired")
        raise PhoneCodeExpired()
    if not code_matches(box, verification.id, code, verification.code_hash):
        verification.attempts += 1
        if verification.attempts >= MAX_ATTEMPTS:
            verification.status = PhoneVerificationStatus.REVOKED
            verification.detail = "attempts_exceeded"
            await _fail(session, subject, verification, "attempts_exceeded")
            raise PhoneAttemptsExceeded()
        await _fail(session, subject, verification, "wrong_code")
        raise InvalidPhoneCode(MAX_ATTEMPTS - verification.attempts)
    verification.status = PhoneVerificationStatus.VERIFIED
    verification.detail = None
    profile = await repo.ensure_profile(session, subject.tenant_id, subject.user_id)
    before = {"phone_e164": profile.phone_e164, "phone_country": profile.phone_country}
    profile.phone_e164 = number
    profile.phone_country = phone_region(number)
    profile.phone_verified_at = now
    await session.flush()
    await audit.record(
        session,
        subject,
        "phone.verify.succeeded",
        EntityRef("phone_verification", verification.id),
        before=before,
        after={
            "phone_e164": number,
            "phone_country": profile.phone_country,
            "verified_at": now.isoformat(),
        },
    )
    return verification


async def cancel(session: AsyncSession, subject: AuthSubject) -> list[UUID]:
    """Revoke the user's pending verifications; 404 when there is none."""
    revoked = await repo.revoke_pending(
        session, subject.tenant_id, subject.user_id, detail="cancelled"
    )
    if not revoked:
        raise NoPendingVerification()
    for verification_id in revoked:
        await audit.record(
            session,
            subject,
            "phone.verify.cancelled",
            EntityRef("phone_verification", verification_id),
            after={"status": PhoneVerificationStatus.REVOKED.value},
        )
    return revoked


async def pending(session: AsyncSession, subject: AuthSubject) -> PhoneVerification | None:
    """The user's pending verification, if any (for pages; it may have run out)."""
    return await repo.latest_pending(session, subject.tenant_id, subject.user_id)


# --- the user's own profile ----------------------------------------------------------------


async def read_profile(session: AsyncSession, subject: AuthSubject) -> ProfileView:
    profile = await repo.profile_of(session, subject.tenant_id, subject.user_id)
    user = subject.user
    return ProfileView(
        email=user.email,
        full_name=user.full_name,
        locale=user.locale,
        phone_e164=profile.phone_e164 if profile else None,
        phone_verified_at=profile.phone_verified_at if profile else None,
        phone_country=profile.phone_country if profile else None,
        job_title_code=profile.job_title_code if profile else None,
        department_code=profile.department_code if profile else None,
    )


async def update_profile(
    session: AsyncSession,
    subject: AuthSubject,
    *,
    full_name: str | None = None,
    locale: str | None = None,
    work_codes: Mapping[str, str | None] | None = None,
) -> ProfileView:
    """Change one's own name, language, job title and department (`None` leaves a field as
    it is; in `work_codes`, a field given as `None` is cleared); audited
    `user.profile.updated` when something changed. Codes are checked first: a refused one
    changes nothing."""
    user = subject.user
    changes: dict[str, str | None] = {}
    if full_name is not None:
        name = " ".join(full_name.split())
        if not name:
            raise ValidationFailed({"full_name": N_("Enter your name.")})
        if len(name) > 200:
            raise ValidationFailed({"full_name": N_("Use at most 200 characters.")})
        changes["full_name"] = name
    if locale is not None:
        if locale not in SUPPORTED_LOCALES:
            raise ValidationFailed({"locale": N_("Choose one of the offered languages.")})
        changes["locale"] = locale
    await check_work_codes(session, subject.tenant_id, work_codes or {})  # before any change
    before = {key: getattr(user, key) for key in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    work_before, work_after = await set_work_codes(
        session, subject.tenant_id, subject.user_id, work_codes or {}
    )
    before |= work_before
    changes |= work_after
    if changes != before:
        await session.flush()
        await audit.record(
            session,
            subject,
            "user.profile.updated",
            EntityRef("user", user.id),
            before=before,
            after=changes,
        )
    return await read_profile(session, subject)
