"""Tenant notification policies (Section 14 §3) the core reads, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.modules.notify import repository


@dataclass(frozen=True, slots=True)
class Policies:
    """`mirroring`: SMS/WhatsApp mirror to e-mail + inbox (DECISIONS §2.1: on).
    `allow_transactional_over_stop`: a STOP still lets transactional SMS through (off)."""

    mirroring: bool = True
    allow_transactional_over_stop: bool = False


async def load_policies(session: AsyncSession) -> Policies:
    values = await repository.policy_values(session)
    return Policies(
        mirroring=bool(values.get("mirroring", True)),
        allow_transactional_over_stop=bool(values.get("allow_transactional_over_stop", False)),
    )
