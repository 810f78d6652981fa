"""Tables of spec Section 1 §3: sessions and refresh tokens, profiles, 2FA, one-time
tokens (e-mail verification, password reset), invitations, phone verification.

Every secret is stored hashed (SHA-256 of a random token, or Argon2 for passwords); TOTP
seeds are Fernet-encrypted. Tokens handed to a browser or an e-mail carry their tenant
id in the clear (`<tenant>.<secret>`), so finding them needs no pre-tenant lookup.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Index, LargeBinary, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import TenantModel, string_enum, tenant_fk


class AuthSession(TenantModel):
    """A signed-in device: one refresh-token family.

    Invariants: the session is usable while `revoked_at` is NULL and now is before both
    `expires_at` (sliding, extended by each refresh) and `absolute_expires_at`.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        Index(None, "tenant_id", "user_id", "revoked_at"),
    )

    user_id: Mapped[UUID]
    user_agent: Mapped[str | None] = mapped_column(String(400))
    ip: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(TenantModel):
    """Every refresh token ever issued for a session. Rotation marks the presented one
    `used_at`; presenting a used token again is reuse and revokes the whole session."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        tenant_fk("session_id", "sessions", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    session_id: Mapped[UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class Theme(enum.StrEnum):
    LIGHT = "light"
    DARK = "dark"
    CONTRAST = "contrast"


class Density(enum.StrEnum):
    COMFORTABLE = "comfortable"
    COMPACT = "compact"


class TimeFormat(enum.StrEnum):
    """`locale` follows the language's convention (12-hour in English, Arabic)."""

    LOCALE = "locale"
    H12 = "h12"
    H24 = "h24"


class UserProfile(TenantModel):
    """Per-user profile: verified phone, sign-in security state and the shell preferences
    (theme, density, time format, timezone; the language is `users.locale`). A missing
    `timezone` means the deployment default (`Settings.default_timezone`)."""

    __tablename__ = "user_profiles"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "user_id"),
    )

    user_id: Mapped[UUID]
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    phone_verified_at: Mapped[datetime | None]
    phone_country: Mapped[str | None] = mapped_column(String(2))
    """ISO 3166 region of `phone_e164`, stored when it is verified (spec §8 "country
    stored"); None for numbers no single region owns."""
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    theme: Mapped[Theme] = mapped_column(
        string_enum(Theme, "theme"), default=Theme.LIGHT, server_default=Theme.LIGHT.value
    )
    density: Mapped[Density] = mapped_column(
        string_enum(Density, "density"),
        default=Density.COMFORTABLE,
        server_default=Density.COMFORTABLE.value,
    )
    time_format: Mapped[TimeFormat] = mapped_column(
        string_enum(TimeFormat, "time_format"),
        default=TimeFormat.LOCALE,
        server_default=TimeFormat.LOCALE.value,
    )
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Codes of the coded dictionaries (module `dictionaries`), checked by its service.
    job_title_code: Mapped[str | None] = mapped_column(String(40))
    department_code: Mapped[str | None] = mapped_column(String(40))


class TwoFactor(TenantModel):
    """A user's second factors. `totp_secret` is Fernet-encrypted; `totp_last_step`
    is the last accepted 30-second step, so a code is accepted once only."""

    __tablename__ = "twofa_secrets"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "user_id"),
    )

    user_id: Mapped[UUID]
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    sms_enabled: Mapped[bool] = mapped_column(default=False)
    whatsapp_enabled: Mapped[bool] = mapped_column(default=False)


class BackupCode(TenantModel):
    """A single-use 2FA backup code (hashed)."""

    __tablename__ = "twofa_backup_codes"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        Index(None, "tenant_id", "user_id"),
    )

    user_id: Mapped[UUID]
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose name, not a secret)
    LOGIN_CHALLENGE = "login_challenge"


class OneTimeToken(TenantModel):
    """A single-use token: e-mail verification, password reset, or the short-lived 2FA
    challenge between a password and a second factor (`data` holds its context)."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token_hash"),
    )

    user_id: Mapped[UUID]
    purpose: Mapped[TokenPurpose] = mapped_column(string_enum(TokenPurpose, "purpose"))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Invite(TenantModel):
    """An invitation to join the tenant with some roles; accepted at most once."""

    __tablename__ = "invites"
    __table_args__ = (
        tenant_fk("inviter_id", "users"),
        UniqueConstraint("tenant_id", "token_hash"),
        Index(
            "uq_invites_pending_email",
            "tenant_id",
            "email",
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    email: Mapped[str] = mapped_column(String(320))
    role_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    inviter_id: Mapped[UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    sent_count: Mapped[int] = mapped_column(default=1)
    accepted_user_id: Mapped[UUID | None]


class PhoneVerificationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    EXPIRED = "expired"
    REVOKED = "revoked"


class PhoneVerification(TenantModel):
    """A phone verification attempt (spec §8): 6-digit code hashed, 10-minute TTL,
    at most 5 attempts."""

    __tablename__ = "phone_verifications"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        Index(None, "tenant_id", "user_id", "created_at"),
    )

    user_id: Mapped[UUID]
    e164: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[PhoneVerificationStatus] = mapped_column(
        string_enum(PhoneVerificationStatus, "status"), default=PhoneVerificationStatus.PENDING
    )
    last_sent_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sends: Mapped[int] = mapped_column(default=1)
    detail: Mapped[str | None] = mapped_column(Text)
