"""Channels of a contact: add, change, remove, and consent (Section 3 §4, §6; Section 2 §9).

Rules:
- e-mail is normalised (lower case) and phone / WhatsApp numbers to E.164 (422 on the
  field); a value another live contact holds is a blocking duplicate (409 naming it). A
  phone and a WhatsApp channel are the same number for dedupe; one contact may hold both;
- at most one primary channel per type; the first channel of a type is primary;
- consent goes through the notifications core (`record_consent`, which appends to
  `channel_opt_ins` and audits `contact.opted_in|opted_out`); the channel's flags mirror
  the latest event. A number on the STOP list cannot be opted in to SMS (409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, NotFound
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.exceptions import DuplicateChannel, NumberStopped
from m3crm.modules.contacts.models import ChannelType, Contact, ContactChannel
from m3crm.modules.contacts.repository import PHONE_TYPES, ChannelRepository
from m3crm.modules.notify import consent
from m3crm.modules.notify.addresses import normalize_e164, normalize_email
from m3crm.modules.notify.models import Channel, ConsentAction, SubjectType

CONSENT_CHANNEL = {
    ChannelType.EMAIL: Channel.EMAIL,
    ChannelType.PHONE: Channel.SMS,
    ChannelType.WHATSAPP: Channel.WHATSAPP,
}


def normalize(type: ChannelType, value: str, *, field: str) -> str:
    if type is ChannelType.EMAIL:
        return normalize_email(value, field=field)
    return normalize_e164(value, field=field)


def dedupe_types(type: ChannelType) -> tuple[ChannelType, ...]:
    return PHONE_TYPES if type in PHONE_TYPES else (ChannelType.EMAIL,)


def channel_snapshot(channel: ContactChannel) -> dict[str, Any]:
    return {
        "type": channel.type.value,
        "value": channel.normalized_value,
        "is_primary": channel.is_primary,
        "verified": channel.verified_at is not None,
    }


async def ensure_free(
    repo: ChannelRepository,
    type: ChannelType,
    normalized: str,
    *,
    field: str,
    own_contact: UUID | None,
    own_channel: UUID | None = None,
) -> None:
    """Refuse a value held by another contact (409 `DuplicateChannel`) or already on
    this contact with the same type (409 `CONFLICT`)."""
    for holder in await repo.holders(dedupe_types(type), [normalized]):
        if holder.id == own_channel:
            continue
        if holder.contact_id != own_contact:
            raise DuplicateChannel(field, holder.contact_id)
        if holder.type is type:
            raise Conflict(N_("This contact already has this channel."), details={"field": field})


async def flush_channels(session: AsyncSession, field: str) -> None:
    """Flush; a unique violation that raced past `ensure_free` is still a 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            N_("Another contact already has this e-mail address or phone number."),
            details={"field": field},
        ) from None


class ChannelService:
    async def add(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        contact: Contact,
        type: ChannelType,
        value: str,
        *,
        is_primary: bool = False,
        locale: str | None = None,
        field: str = "value",
    ) -> ContactChannel:
        """Callers MUST have fetched `contact` with `get_for_update` (404/403 first)."""
        repo = ChannelRepository(session, subject.tenant_id)
        normalized = normalize(type, value, field=field)
        await ensure_free(repo, type, normalized, field=field, own_contact=contact.id)
        existing = [c for c in await repo.of_contacts([contact.id]) if c.type is type]
        channel = repo.add(
            ContactChannel(
                contact_id=contact.id,
                type=type,
                value=value,
                normalized_value=normalized,
                is_primary=is_primary or not existing,
                opt_in=False,
                locale=locale,
            )
        )
        await flush_channels(session, field)
        if channel.is_primary:
            await repo.clear_primary(contact.id, type, keep=channel.id)
        await record(
            session,
            subject,
            "contact.channel.added",
            EntityRef("contact", contact.id),
            None,
            channel_snapshot(channel),
        )
        return channel

    async def get(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact, channel_id: UUID
    ) -> ContactChannel:
        channel = await ChannelRepository(session, subject.tenant_id).of_contact(
            contact.id, channel_id
        )
        if channel is None:
            raise NotFound()
        return channel

    async def update(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        contact: Contact,
        channel_id: UUID,
        *,
        value: str | None,
        is_primary: bool | None,
        locale: str | None,
    ) -> ContactChannel:
        """A new value clears `verified_at` (the new address is not proven)."""
        repo = ChannelRepository(session, subject.tenant_id)
        channel = await self.get(session, subject, contact, channel_id)
        before = channel_snapshot(channel)
        if value is not None:
            normalized = normalize(channel.type, value, field="value")
            if normalized != channel.normalized_value:
                await ensure_free(
                    repo,
                    channel.type,
                    normalized,
                    field="value",
                    own_contact=contact.id,
                    own_channel=channel.id,
                )
                channel.value, channel.normalized_value = value, normalized
                channel.verified_at = None
        if locale is not None:
            channel.locale = locale
        if is_primary:
            channel.is_primary = True
        await flush_channels(session, "value")
        if is_primary:
            await repo.clear_primary(contact.id, channel.type, keep=channel.id)
        after = channel_snapshot(channel)
        if after != before:
            await record(
                session,
                subject,
                "contact.channel.updated",
                EntityRef("contact", contact.id),
                before,
                after,
            )
        return channel

    async def remove(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact, channel_id: UUID
    ) -> None:
        channel = await self.get(session, subject, contact, channel_id)
        before = channel_snapshot(channel)
        await session.delete(channel)
        await session.flush()
        await record(
            session, subject, "contact.channel.removed", EntityRef("contact", contact.id), before
        )

    async def set_consent(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        contact: Contact,
        channel_id: UUID,
        action: ConsentAction,
        *,
        source: str,
        text: str | None,
    ) -> ContactChannel:
        """Record the consent event (notify audits it) and mirror it on the channel."""
        channel = await self.get(session, subject, contact, channel_id)
        consent_channel = CONSENT_CHANNEL[channel.type]
        if (
            action is ConsentAction.OPT_IN
            and consent_channel is Channel.SMS
            and await consent.stopped_numbers(
                session, subject.tenant_id, [channel.normalized_value]
            )
        ):
            raise NumberStopped()
        await consent.record_consent(
            session,
            subject,
            subject=consent.ConsentSubject(SubjectType.CONTACT, contact.id),
            channel=consent_channel,
            action=action,
            source=source,
            text=text,
        )
        now = datetime.now(UTC)
        if action is ConsentAction.OPT_IN:
            channel.opt_in, channel.opt_in_source, channel.opt_in_at = True, source, now
            channel.opt_out_at = None
        else:
            channel.opt_in, channel.opt_out_at = False, now
        await session.flush()
        return channel


channels = ChannelService()
