"""The workspace policy "Require verified phone for SMS/WA comms" (spec Section 1 §8).

When `Policies.require_verified_phone` is on, an SMS or WhatsApp message addressed to a
workspace user (a dispatch with `recipient_user_id`) goes only to that user's verified
phone: a user without one, or a `to` that is another number, is refused with 409
`PHONE_NOT_VERIFIED` before anything is queued. Messages to contacts (no user) are not
touched, and a message that itself verifies the number (`DispatchRequest.proves_phone`,
the phone-verification code) is exempt, or no number could ever be verified.

Notify does not own phones: the identity module registers the lookup of a user's
verified number (`register_verified_phone_lookup`). With none registered every user
counts as unverified (the policy fails closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.errors import DomainError
from m3crm.kernel.i18n import N_

VerifiedPhoneLookup = Callable[[AsyncSession, UUID], Awaitable[str | None]]
"""`(session, user_id) -> E.164 of the user's verified phone, or None`."""

_lookup: list[VerifiedPhoneLookup] = []


class PhoneNotVerified(DomainError):
    status_code = 409
    code = "PHONE_NOT_VERIFIED"
    default_message = N_(
        "This workspace sends SMS and WhatsApp messages only to a person's verified phone."
    )


def register_verified_phone_lookup(lookup: VerifiedPhoneLookup) -> None:
    """Install the lookup (idempotent: the last registration wins)."""
    _lookup[:] = [lookup]


async def require_verified_phone(session: AsyncSession, user_id: UUID, address: str) -> None:
    """409 `PHONE_NOT_VERIFIED` unless `address` (normalised E.164) is the verified phone
    of `user_id`. Callers decide that the policy applies (on, SMS/WA, a user recipient)."""
    verified = await _lookup[0](session, user_id) if _lookup else None
    if verified is None or verified != address:
        raise PhoneNotVerified(details={"recipient_user_id": str(user_id)})
