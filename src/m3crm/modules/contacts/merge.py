"""Merging two contacts (Section 3 §6), in the caller's transaction — all or nothing.

- the target keeps its id; the source becomes a tombstone (`merged_into_id` = target);
- fields listed in `take_from_source` get the source's value, the others stay;
- channels: the union (a value exists once per tenant, so none collide); the target's
  primaries stay primary; verification and consent flags travel with their channel, and
  the source's consent events are re-recorded for the target (source `merge`) so the
  consent the notifications core checks follows the channel;
- company links and custom values the target lacks move over; open duplicate pairs of
  the source are resolved; one `contact.merged` audit row holds the before/after;
- the source's followers follow the target (each once), and the target's followers are
  told (inbox, not the actor);
- the same contact twice is 422; another tenant's or an invisible id 404; a source or
  target already merged 409 (naming where it went); a non-editable one 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.channels import CONSENT_CHANNEL, channel_snapshot
from m3crm.modules.contacts.contacts import snapshot
from m3crm.modules.contacts.exceptions import MergedRecord, NotRecordOwner
from m3crm.modules.contacts.followers import Change, followers
from m3crm.modules.contacts.models import Contact, ContactChannel
from m3crm.modules.contacts.policies import can_edit_contact, can_see_contact, viewer
from m3crm.modules.contacts.repository import ChannelRepository, ContactRepository, LinkRepository
from m3crm.modules.contacts.repository_duplicates import DuplicateRepository
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.modules.notify import consent
from m3crm.modules.notify.models import ConsentAction, SubjectType

MERGEABLE = ("first_name", "last_name", "job_title", "company_id", "owner_user_id",
             "lifecycle_stage")  # fmt: skip


def _usable(contact: Contact | None, subject: AuthSubject) -> Contact:
    if contact is None or contact.deleted_at is not None:
        raise NotFound()
    if not can_see_contact(subject, contact):
        raise NotFound()
    if contact.merged_into_id is not None:
        raise MergedRecord(contact.id, contact.merged_into_id)
    if not can_edit_contact(subject, contact):
        raise NotRecordOwner()
    return contact


class MergeService:
    async def merge(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        source_id: UUID,
        target_id: UUID,
        take_from_source: Sequence[str] = (),
    ) -> Contact:
        if source_id == target_id:
            raise ValidationFailed({"source_id": N_("Choose two different contacts.")})
        tid = subject.tenant_id
        repo = ContactRepository(session, tid)
        locked = await repo.lock([source_id, target_id])
        seen = await viewer(session, subject)
        for contact_id in (source_id, target_id):
            if contact_id in locked and not await repo.in_scope(seen, contact_id):
                raise NotFound()  # outside the merger's visibility scope
        source = _usable(locked.get(source_id), subject)
        target = _usable(locked.get(target_id), subject)
        before = snapshot(target)
        for name in take_from_source:
            if name not in MERGEABLE:
                raise ValidationFailed({"take_from_source": N_("This field cannot be merged.")})
            setattr(target, name, getattr(source, name))
        moved = await ChannelRepository(session, tid).move(source.id, target.id)
        links = LinkRepository(session, tid)
        await links.move(source.id, target.id)
        if "company_id" in take_from_source:
            await links.set_primary(target.id, target.company_id)
        await custom_fields.move(session, tid, EntityType.CONTACT, source.id, target.id)
        await followers.move(session, tid, source.id, target.id)
        source.merged_into_id = target.id
        now = datetime.now(UTC)
        source.updated_at = target.updated_at = now
        await session.flush()
        await self._carry_consent(session, subject, target, moved)
        await DuplicateRepository(session, tid).resolve_for(source.id, target.id)
        after = snapshot(target) | {
            "merged_from": str(source.id),
            "channels_moved": [channel_snapshot(c) for c in moved],
        }
        await record(
            session, subject, "contact.merged", EntityRef("contact", target.id), before, after
        )
        await record(
            session, subject, "contact.merged", EntityRef("contact", source.id), None,
            {"merged_into_id": str(target.id)},
        )  # fmt: skip
        await followers.notify(
            session, subject, [target], Change.MERGED,
            actor_name=subject.card.full_name or subject.card.email,
        )  # fmt: skip
        return target

    async def _carry_consent(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        target: Contact,
        moved: list[ContactChannel],
    ) -> None:
        for channel in moved:
            if not channel.opt_in and channel.opt_out_at is None:
                continue
            action = ConsentAction.OPT_IN if channel.opt_in else ConsentAction.OPT_OUT
            await consent.record_consent(
                session,
                subject,
                subject=consent.ConsentSubject(SubjectType.CONTACT, target.id),
                channel=CONSENT_CHANNEL[channel.type],
                action=action,
                source="merge",
                text=channel.opt_in_source,
            )


merge = MergeService()
