"""Symmetric encryption of small secrets at rest (TOTP seeds, provider credentials).

`SecretBox` wraps Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp) under a key derived
from the application's `secrets_key`: `urlsafe_b64(sha256(secret))`. Rotating
`secrets_key` makes every sealed value unreadable — `open` then answers `None`, and
callers MUST treat that as "no secret" (e.g. TOTP must be set up again), never as an error
page. `digest` is a keyed hash (HMAC-SHA256) under a second key derived from the same
secret, for short secrets that are checked but never read back (one-time codes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from m3crm.settings import Settings


class SecretBox:
    """Seal and open bytes with a key derived from `secret`."""

    __slots__ = ("_fernet", "_mac_key")

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("SecretBox needs a non-empty secret")
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())
        self._fernet = Fernet(key)
        self._mac_key = hashlib.sha256(b"m3crm-digest\0" + secret.encode("utf-8")).digest()

    def digest(self, data: bytes) -> str:
        """HMAC-SHA256 of `data` (hex) under a key derived from the secret, separate
        from the sealing key: without the secret, a stored digest of a short code cannot
        be checked against guesses."""
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()

    def seal(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def open(self, token: bytes) -> bytes | None:
        """The plaintext, or `None` when `token` was not sealed under this key (or was
        tampered with)."""
        try:
            return self._fernet.decrypt(token)
        except (InvalidToken, TypeError, ValueError):
            return None


@lru_cache(maxsize=4)
def _box(secret: str) -> SecretBox:
    return SecretBox(secret)


def secret_box(settings: Settings) -> SecretBox:
    """The application's box (keyed by `settings.secrets_key`)."""
    return _box(settings.secrets_key.get_secret_value())
