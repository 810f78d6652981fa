"""Symmetric encryption of small secrets at rest (TOTP seeds, provider credentials).

`SecretBox` wraps Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp) under a key derived
from the application's `secrets_key`: `urlsafe_b64(sha256(secret))`. Rotating
`secrets_key` makes every sealed value unreadable — `open` then answers `None`, and
callers MUST treat that as "no secret" (e.g. TOTP must be set up again), never as an error
page.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from m3crm.settings import Settings


class SecretBox:
    """Seal and open bytes with a key derived from `secret`."""

    __slots__ = ("_fernet",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("SecretBox needs a non-empty secret")
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())
        self._fernet = Fernet(key)

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
