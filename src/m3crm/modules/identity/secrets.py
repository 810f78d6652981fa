"""Passwords, opaque tokens and short codes: how identity secrets are made and checked.

- Passwords: Argon2id (argon2-cffi's RFC 9106 low-memory profile: t=3, m=64 MiB, p=4),
  a policy of ≥ 10 characters, not the e-mail, not a well-known weak pattern.
- Opaque tokens: `<tenant id, base64url>.<32 random bytes, base64url>`; only the SHA-256
  of the whole token is stored. The tenant part lets a request bind the right tenant
  before looking the token up (RLS stays on).
- Codes (one-time codes, backup codes): stored as HMAC-SHA256 under the server secret
  (`SecretBox.digest`, keyed by `secrets_key`) over the record's id and the code: a
  stolen table cannot be brute-forced without the secret, a code is only meaningful
  with its record, and comparing digests is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from m3crm.kernel.crypto import SecretBox
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_

PASSWORD_MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory defaults
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")
_WEAK = re.compile(
    r"^(?:(.)\1+|0123456789|1234567890|password\d*|qwerty\w*|letmein\w*|welcome\d*|"
    r"iloveyou\w*|admin\d*|abc123\w*|p@ssw0rd\w*)$",
    re.IGNORECASE,
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account has a password (no timing oracle)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, email: str) -> str | None:
    """Why `password` is refused, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return N_("Use at least 10 characters.")
    lowered = password.lower()
    local = email.split("@")[0].lower()
    if lowered == email.lower() or (len(local) >= 4 and local in lowered):
        return N_("Do not use your e-mail address in your password.")
    if _WEAK.match(password) or len(set(password)) < 4:
        return N_("This password is too easy to guess.")
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(tenant_id: UUID) -> tuple[str, str]:
    """A fresh token for `tenant_id` and the hash to store."""
    token = f"{_b64(tenant_id.bytes)}.{_b64(secrets.token_bytes(32))}"
    return token, hash_token(token)


def token_tenant(token: str) -> UUID | None:
    """The tenant a token names, or None for anything malformed."""
    head, dot, tail = token.partition(".")
    if not dot or len(head) != 22 or len(tail) != 43:
        return None
    try:
        return UUID(bytes=base64.urlsafe_b64decode(head + "=="))
    except ValueError:
        return None


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_code(box: SecretBox, record_id: UUID, code: str) -> str:
    return box.digest(record_id.bytes + b"\0" + code.encode())


def code_matches(box: SecretBox, record_id: UUID, code: str, stored: str) -> bool:
    return hmac.compare_digest(hash_code(box, record_id, code), stored)


def check_password(password: str, email: str, field: str = "password") -> None:
    """422 on `field` when the password breaks the policy (`password_problem`)."""
    problem = password_problem(password, email)
    if problem:
        raise ValidationFailed({field: problem})
