"""Single-use tokens (`one_time_tokens`): e-mail links and sign-in challenges.

A token is `<tenant>.<random>` (`secrets.new_token`); only its SHA-256 is stored, with its
purpose, owner, expiry and data. Redeeming binds the token's tenant first (RLS stays on),
then finds the row of that purpose, locked; an unknown, used or expired token is
`InvalidToken` (400 `TOKEN_INVALID`). Callers mark a row used only once everything else
is checked, so a refused form keeps its link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.errors import DomainError
from m3crm.kernel.i18n import N_
from m3crm.kernel.tenancy.models import User
from m3crm.modules.identity import repository
from m3crm.modules.identity.models import OneTimeToken, TokenPurpose
from m3crm.modules.identity.secrets import hash_token, new_token, token_tenant


class InvalidToken(DomainError):
    status_code = 400
    code = "TOKEN_INVALID"
    default_message = N_("This link is invalid or has expired.")


async def issue(
    session: AsyncSession, user: User, purpose: TokenPurpose, lifetime: timedelta,
    data: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    """A new single-use token of `purpose` for `user`, valid for `lifetime`; only its
    digest is stored. `data` travels with it (e.g. a login challenge's methods)."""
    token, digest = new_token(user.tenant_id)
    session.add(
        OneTimeToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=digest,
            expires_at=datetime.now(UTC) + lifetime,
            data=data or {},
        )
    )
    await session.flush()
    return token


async def _bind_token(session: AsyncSession, token: str) -> None:
    tenant_id = token_tenant(token)
    if tenant_id is None:
        raise InvalidToken()
    await bind_tenant(session, tenant_id, None)


async def usable(session: AsyncSession, token: str, purpose: TokenPurpose) -> OneTimeToken:
    """The token's row, locked; refused when unknown, used or expired. Callers mark it
    used only once everything else has been checked (a refused form keeps its link)."""
    await _bind_token(session, token)
    row = await repository.one_time_token(session, hash_token(token), purpose)
    if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
        raise InvalidToken()
    return row
