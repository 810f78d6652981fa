"""Provider credentials, encrypted at rest (Fernet, key from settings).

Resolution (DECISIONS §2.3): the tenant's own row, else the global row (`tenant_id`
NULL), else the deployment settings. Stored values are never returned by the API.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.crypto import SecretBox
from m3crm.kernel.ids import new_id
from m3crm.modules.notify import repository
from m3crm.modules.notify.models import ProviderCredential


class CredentialCipher:
    """A provider's secrets as JSON in the kernel's `SecretBox`."""

    def __init__(self, secret: str) -> None:
        self.box = SecretBox(secret)

    def encrypt(self, data: dict[str, Any]) -> bytes:
        return self.box.seal(json.dumps(data, sort_keys=True).encode())

    def decrypt(self, token: bytes) -> dict[str, Any]:
        """The stored secrets; `{}` when the key changed and they cannot be read."""
        opened = self.box.open(token)
        if opened is None:
            return {}
        value: dict[str, Any] = json.loads(opened)
        return value


async def stored_credentials(
    session: AsyncSession, cipher: CredentialCipher, provider: str
) -> dict[str, Any]:
    """The tenant's override merged over the global row (RLS shows exactly these two)."""
    rows = await repository.credential_rows(session, provider)
    merged: dict[str, Any] = {}
    for row in rows:
        merged.update(cipher.decrypt(row.data))
    return merged


async def set_tenant_credentials(
    session: AsyncSession,
    actor: Actor,
    cipher: CredentialCipher,
    provider: str,
    data: dict[str, Any],
) -> None:
    stmt = (
        insert(ProviderCredential)
        .values(
            id=new_id(), tenant_id=actor.tenant_id, provider=provider, data=cipher.encrypt(data)
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "provider"], set_={"data": cipher.encrypt(data)}
        )
    )
    await session.execute(stmt)
    await audit.record(
        session,
        actor,
        "provider.credentials.changed",
        EntityRef("provider_credentials", provider),
        after={"keys": sorted(data)},
    )
