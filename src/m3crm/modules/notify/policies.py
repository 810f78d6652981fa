"""Tenant notification policies (Section 14 §3) the core reads, with their defaults, and
their editing by an admin (`notify.policies.manage`, Section 14 §12)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import EntityRef
from m3crm.kernel.auth import AuthSubject
from m3crm.modules.notify import repository


@dataclass(frozen=True, slots=True)
class Policies:
    """`mirroring`: SMS/WhatsApp mirror to e-mail + inbox (DECISIONS §2.1: on).
    `allow_transactional_over_stop`: a STOP still lets transactional SMS through (off).
    `require_verified_phone`: SMS/WhatsApp to a workspace user only to their verified
    phone (off; Section 1 §8, set under `twofa.manage.tenant`, see `phone_policy`)."""

    mirroring: bool = True
    allow_transactional_over_stop: bool = False
    require_verified_phone: bool = False


async def load_policies(session: AsyncSession) -> Policies:
    """The stored policies; a key never stored keeps the default `Policies` declares."""
    values = await repository.policy_values(session)
    return Policies(**{f.name: bool(values[f.name]) for f in fields(Policies) if f.name in values})


async def save_policies(
    session: AsyncSession, subject: AuthSubject, changes: Mapping[str, bool]
) -> Policies:
    """Store the given policies (keys of `Policies`; the others keep their value) and
    audit `notify.policies.updated` with what changed. Nothing changed, nothing written."""
    before = await load_policies(session)
    after = replace(before, **changes)
    old, new = asdict(before), asdict(after)
    changed = {key: value for key, value in new.items() if old[key] != value}
    for key, value in changed.items():
        await repository.save_policy_value(session, subject.tenant_id, key, value)
    if changed:
        await audit.record(
            session,
            subject,
            "notify.policies.updated",
            EntityRef("notification_policies", subject.tenant_id),
            before={key: old[key] for key in changed},
            after=changed,
        )
    return after
