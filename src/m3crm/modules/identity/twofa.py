"""Two-factor sign-in (spec Section 1 §1.4, §8; Appendix A §4): TOTP with single-use
backup codes, and SMS/WhatsApp toggles.

Invariants:
- The TOTP seed is stored sealed (`SecretBox`); a seed that no longer opens (the
  `secrets_key` was rotated) counts as no TOTP at all.
- A TOTP code is accepted once: the 30-second step it matched is stored in
  `totp_last_step`, and a code whose step is not after it is refused (replay). The row is
  locked while checking, so two concurrent requests cannot both accept one code.
- Backup codes are shown once, stored as HMAC-SHA-256 keyed with the user id, compared in
  constant time, and used at most once (`used_at`, set by a conditional UPDATE).
- SMS/WhatsApp 2FA need the plan feature and a verified phone to be turned on; the
  sign-in flow re-checks the phone (`second_factor_methods`).

Services flush, never commit; every state change is audited in the same transaction.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pyotp
import segno
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.auth import AuthSubject, entitlements_of
from m3crm.kernel.crypto import SecretBox
from m3crm.kernel.errors import DomainError, InvalidTransition
from m3crm.kernel.i18n import N_
from m3crm.modules.identity import repository_twofa as repo
from m3crm.modules.identity.models import BackupCode, TwoFactor
from m3crm.modules.identity.secrets import hash_code, verify_password

ISSUER = "M3CoreCRM"
STEP_SECONDS = 30
VALID_WINDOW = 1
BACKUP_CODE_COUNT = 10
# Lowercase letters and digits without the look-alikes 0/o, 1/l/i.
BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_BACKUP_HALF = 4


class InvalidCode(DomainError):
    """A wrong TOTP/backup code or password; `details.fields` names the field."""

    status_code = 422
    code = "AUTH_2FA_INVALID_CODE"
    default_message = N_("The code is not valid.")

    def __init__(self, field: str = "code", message: str | None = None) -> None:
        text = message or (
            N_("The password is not correct.") if field == "password" else self.default_message
        )
        super().__init__(text, details={"fields": {field: text}})


class PhoneNotVerified(DomainError):
    status_code = 409
    code = "PHONE_NOT_VERIFIED"
    default_message = N_("Verify your mobile number before turning this on.")


class Channel(enum.StrEnum):
    """Channels of a one-time sign-in code sent to the user's phone."""

    SMS = "sms"
    WHATSAPP = "whatsapp"

    @property
    def feature(self) -> str:
        return f"twofa.{self.value}"


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_png_data_url: str


@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    totp_enabled: bool
    totp_pending: bool
    backup_codes_left: int
    sms_enabled: bool
    whatsapp_enabled: bool
    phone_verified: bool


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _entity(user_id: UUID) -> audit.EntityRef:
    return audit.EntityRef("user", user_id)


# --- sign-in checks (called by the login flow) ---------------------------------------


async def second_factor_methods(session: AsyncSession, user_id: UUID) -> list[str]:
    """The second factors the user can sign in with now, in order of preference; an
    empty list means the user has no 2FA. The session must be bound to the user's tenant."""
    row = await repo.two_factor(session, user_id)
    if row is None:
        return []
    methods: list[str] = []
    if row.totp_enabled:
        methods.append("totp")
        if await repo.count_unused_backup_codes(session, user_id):
            methods.append("backup")
    if row.sms_enabled or row.whatsapp_enabled:
        prof = await repo.profile(session, user_id)
        if prof is not None and prof.phone_e164 and prof.phone_verified_at is not None:
            methods += [c.value for c in Channel if getattr(row, f"{c.value}_enabled")]
    return methods


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The latest step within the window whose code equals `code` (all compared)."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = _step(now)
    found: int | None = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _accept(row: TwoFactor, box: SecretBox, code: str, now: datetime) -> bool:
    """Check `code` against the row's seed and record its step (the replay guard)."""
    if row.totp_secret is None:
        return False
    seed = box.open(row.totp_secret)
    if seed is None:
        return False
    step = _matching_step(seed.decode(), "".join(code.split()), now)
    if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
        return False
    row.totp_last_step = step
    return True


async def verify_totp(
    session: AsyncSession, box: SecretBox, user_id: UUID, code: str, now: datetime | None = None
) -> bool:
    """Whether `code` is a current TOTP code of the user's *enabled* TOTP, not used
    before. On success the step is stored (flushed), so the same code fails next time."""
    row = await repo.two_factor(session, user_id, for_update=True)
    if row is None or not row.totp_enabled:
        return False
    if not _accept(row, box, code, _now(now)):
        return False
    await session.flush()
    return True


def normalize_backup_code(code: str) -> str:
    """`ABCD-EFGH`, `abcd efgh`, `abcdefgh` are the same code."""
    return "".join(ch for ch in code.lower() if ch not in "- \t")


def _backup_hash(box: SecretBox, user_id: UUID, code: str) -> str:
    return hash_code(box, user_id, normalize_backup_code(code))


async def consume_backup_code(
    session: AsyncSession,
    box: SecretBox,
    user_id: UUID,
    code: str,
    now: datetime | None = None,
) -> bool:
    """Use one of the user's unused backup codes; `False` for a wrong or spent code.
    Every stored digest is compared (constant time), and the code is spent by a
    conditional UPDATE, so two concurrent requests cannot both use it."""
    normalized = normalize_backup_code(code)
    if len(normalized) != 2 * _BACKUP_HALF or not normalized.isalnum():
        return False
    row = await repo.two_factor(session, user_id)
    if row is None or not row.totp_enabled:
        return False
    digest = hash_code(box, user_id, normalized)
    match: BackupCode | None = None
    for candidate in await repo.unused_backup_codes(session, user_id):
        if hmac.compare_digest(candidate.code_hash, digest) and match is None:
            match = candidate
    if match is None:
        return False
    return await repo.mark_backup_code_used(session, match, _now(now))


# --- managing one's own 2FA ---------------------------------------------------------------


async def status(session: AsyncSession, subject: AuthSubject) -> TwoFactorStatus:
    return await status_of(session, subject.user_id)


async def status_of(session: AsyncSession, user_id: UUID) -> TwoFactorStatus:
    """Any user's 2FA state (read-only: the admin's Security tab). The session must be
    bound to the user's tenant, and callers MUST have fetched `user_id` scoped first."""
    row = await repo.two_factor(session, user_id)
    prof = await repo.profile(session, user_id)
    enabled = bool(row and row.totp_enabled)
    return TwoFactorStatus(
        totp_enabled=enabled,
        totp_pending=bool(row and not row.totp_enabled and row.totp_secret is not None),
        backup_codes_left=(
            await repo.count_unused_backup_codes(session, user_id) if enabled else 0
        ),
        sms_enabled=bool(row and row.sms_enabled),
        whatsapp_enabled=bool(row and row.whatsapp_enabled),
        phone_verified=bool(prof and prof.phone_e164 and prof.phone_verified_at is not None),
    )


def _setup_for(secret: str, email: str) -> TotpSetup:
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    return TotpSetup(
        secret=secret, otpauth_uri=uri, qr_png_data_url=qr.png_data_uri(scale=5, border=2)
    )


async def _row_for(session: AsyncSession, subject: AuthSubject) -> TwoFactor:
    """The subject's 2FA row (locked), created when missing."""
    row = await repo.two_factor(session, subject.user_id, for_update=True)
    if row is None:
        row = TwoFactor(tenant_id=subject.tenant_id, user_id=subject.user_id)
        session.add(row)
    return row


async def start_totp_setup(
    session: AsyncSession, box: SecretBox, subject: AuthSubject
) -> TotpSetup:
    """A new seed, pending until confirmed with a code; replaces any unconfirmed one.
    Refused (409) while TOTP is enabled: disable it first."""
    row = await _row_for(session, subject)
    if row.totp_enabled:
        raise InvalidTransition("totp", "enabled", "setup")
    secret = pyotp.random_base32()
    row.totp_secret = box.seal(secret.encode())
    row.totp_confirmed_at = None
    row.totp_last_step = None
    await session.flush()
    await audit.record(session, subject, "twofa.totp.setup_started", _entity(subject.user_id))
    return _setup_for(secret, subject.user.email)


async def pending_totp_setup(
    session: AsyncSession, box: SecretBox, subject: AuthSubject
) -> TotpSetup | None:
    """The unconfirmed setup again (to re-show the QR code after a wrong code)."""
    row = await repo.two_factor(session, subject.user_id)
    if row is None or row.totp_enabled or row.totp_secret is None:
        return None
    seed = box.open(row.totp_secret)
    return _setup_for(seed.decode(), subject.user.email) if seed else None


def new_backup_code() -> str:
    chars = [secrets.choice(BACKUP_ALPHABET) for _ in range(2 * _BACKUP_HALF)]
    return "".join(chars[:_BACKUP_HALF]) + "-" + "".join(chars[_BACKUP_HALF:])


async def _issue_backup_codes(
    session: AsyncSession, box: SecretBox, subject: AuthSubject
) -> list[str]:
    """Replace every backup code of the subject by fresh ones; the plain codes."""
    await repo.delete_backup_codes(session, subject.user_id)
    codes = [new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    session.add_all(
        BackupCode(
            tenant_id=subject.tenant_id,
            user_id=subject.user_id,
            code_hash=_backup_hash(box, subject.user_id, code),
        )
        for code in codes
    )
    await session.flush()
    return codes


async def confirm_totp(
    session: AsyncSession,
    box: SecretBox,
    subject: AuthSubject,
    code: str,
    now: datetime | None = None,
) -> list[str]:
    """Enable TOTP when `code` matches the pending seed; the new backup codes (show them
    once). 422 `AUTH_2FA_INVALID_CODE` on field `code`; 409 without a pending setup."""
    row = await repo.two_factor(session, subject.user_id, for_update=True)
    if row is None or row.totp_secret is None:
        raise InvalidTransition("totp", "not_set_up", "enabled")
    if row.totp_enabled:
        raise InvalidTransition("totp", "enabled", "enabled")
    moment = _now(now)
    if not _accept(row, box, code, moment):
        raise InvalidCode("code")
    row.totp_enabled = True
    row.totp_confirmed_at = moment
    await session.flush()
    codes = await _issue_backup_codes(session, box, subject)
    await audit.record(
        session,
        subject,
        "twofa.enabled",
        _entity(subject.user_id),
        before={"totp_enabled": False},
        after={"method": "totp", "totp_enabled": True, "backup_codes": len(codes)},
    )
    return codes


def _check_password(subject: AuthSubject, password: str) -> None:
    if not verify_password(subject.user.password_hash, password):
        raise InvalidCode("password")


async def disable_totp(
    session: AsyncSession,
    box: SecretBox,
    subject: AuthSubject,
    *,
    password: str,
    code: str,
    now: datetime | None = None,
) -> None:
    """Turn TOTP off after re-authentication: the password AND a current TOTP code or an
    unused backup code. Deletes the seed and every backup code."""
    row = await repo.two_factor(session, subject.user_id, for_update=True)
    if row is None or not row.totp_enabled:
        raise InvalidTransition("totp", "disabled", "disabled")
    _check_password(subject, password)
    if not _accept(row, box, code, _now(now)) and not await consume_backup_code(
        session, box, subject.user_id, code, now
    ):
        raise InvalidCode("code")
    row.totp_enabled = False
    row.totp_secret = None
    row.totp_confirmed_at = None
    row.totp_last_step = None
    await session.flush()
    await repo.delete_backup_codes(session, subject.user_id)
    await audit.record(
        session,
        subject,
        "twofa.disabled",
        _entity(subject.user_id),
        before={"totp_enabled": True},
        after={"method": "totp", "totp_enabled": False},
    )


async def regenerate_backup_codes(
    session: AsyncSession, box: SecretBox, subject: AuthSubject, *, password: str
) -> list[str]:
    """Fresh backup codes (the old ones stop working) after re-entering the password."""
    row = await repo.two_factor(session, subject.user_id, for_update=True)
    if row is None or not row.totp_enabled:
        raise InvalidTransition("totp", "disabled", "backup_codes")
    _check_password(subject, password)
    codes = await _issue_backup_codes(session, box, subject)
    await audit.record(
        session,
        subject,
        "twofa.backup_codes.regenerated",
        _entity(subject.user_id),
        after={"backup_codes": len(codes)},
    )
    return codes


async def set_channel(
    session: AsyncSession, subject: AuthSubject, channel: Channel, *, enabled: bool
) -> TwoFactorStatus:
    """Turn SMS/WhatsApp 2FA on (402 without the plan feature, 409 `PHONE_NOT_VERIFIED`
    without a verified phone) or off (always allowed). Audited only when it changes."""
    if enabled:
        (await entitlements_of(session, subject)).require_feature(channel.feature)
        prof = await repo.profile(session, subject.user_id)
        if prof is None or not prof.phone_e164 or prof.phone_verified_at is None:
            raise PhoneNotVerified()
    attr = f"{channel.value}_enabled"
    row = await _row_for(session, subject)
    if bool(getattr(row, attr)) != enabled:
        setattr(row, attr, enabled)
        await session.flush()
        state = "enabled" if enabled else "disabled"
        await audit.record(
            session,
            subject,
            f"twofa.{state}",
            _entity(subject.user_id),
            before={attr: not enabled},
            after={"method": channel.value, attr: enabled},
        )
    return await status(session, subject)
