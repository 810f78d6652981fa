"""JWT access tokens (PyJWT): algorithm allowlist, `exp`, `aud`, `iss` always verified."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from uuid import UUID

import jwt

from m3crm.kernel.errors import NotAuthenticated
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import new_id
from m3crm.settings import Settings

_INVALID = N_("The access token is invalid or expired.")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token asserts. The tenant id is still unproven until the
    user has been loaded inside that tenant (see `kernel.auth`)."""

    tenant_id: UUID
    user_id: UUID
    session_id: UUID | None


def mint_access_token(
    settings: Settings,
    *,
    tenant_id: UUID,
    user_id: UUID,
    session_id: UUID | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """Issue an access token. Login and refresh (identity issue) and tests call this."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(user_id),
        "tid": str(tenant_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + (lifetime or timedelta(minutes=settings.access_token_minutes)),
        "jti": str(new_id()),
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    return jwt.encode(
        claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithms[0]
    )


def verify_access_token(settings: Settings, token: str) -> AccessClaims:
    """Decode and verify; any defect (signature, algorithm, expiry, audience, issuer,
    malformed ids) is the same 401, so a caller learns nothing about which check failed."""
    claims, expires_at = _verified(
        token,
        settings.jwt_secret.get_secret_value(),
        tuple(settings.jwt_algorithms),
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    if time.time() >= expires_at:  # PyJWT's own rule: expired once `exp <= now`
        raise NotAuthenticated(_INVALID)
    return claims


@lru_cache(maxsize=4096)
def _verified(
    token: str, secret: str, algorithms: tuple[str, ...], audience: str, issuer: str
) -> tuple[AccessClaims, float]:
    """Full PyJWT verification of one token string, remembered per process: a client
    sends the same access token on every request for its whole lifetime, and decoding
    (signature, base64 checks) is a measurable share of a request's CPU.

    Only successes are cached (an exception is never stored), keyed by the exact token
    and every verification parameter. What can change with time is re-checked on every
    use by the caller: `exp`. (`iat`/`nbf` only ever become *more* valid.)"""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=list(algorithms),
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "tid", "aud", "iss"]},
        )
        sid = claims.get("sid")
        access = AccessClaims(
            tenant_id=UUID(claims["tid"]),
            user_id=UUID(claims["sub"]),
            session_id=UUID(sid) if sid else None,
        )
        return access, float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise NotAuthenticated(_INVALID) from exc
