"""JWT access tokens (PyJWT): algorithm allowlist, `exp`, `aud`, `iss` always verified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from m3crm.kernel.errors import NotAuthenticated
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import new_id
from m3crm.settings import Settings


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
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=settings.jwt_algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "tid", "aud", "iss"]},
        )
        sid = claims.get("sid")
        return AccessClaims(
            tenant_id=UUID(claims["tid"]),
            user_id=UUID(claims["sub"]),
            session_id=UUID(sid) if sid else None,
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise NotAuthenticated(N_("The access token is invalid or expired.")) from exc
