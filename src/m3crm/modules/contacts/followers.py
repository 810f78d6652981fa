"""Followers of a contact (DECISIONS §3.2): one owner, any number of watchers who are
told about changes without owning the contact.

Rules:
- callers MUST have fetched the contact with `get_readable` (404 for another tenant's id,
  a tombstone or someone else's private contact);
- anyone who sees a contact may follow or unfollow it themselves; adding or removing
  someone else needs the owner or an admin (`policies.can_manage_followers`, else 403);
- the followed user must be an active user of the tenant who can see the contact (422
  on `user_id`); following twice is 409; both changes are audited on the contact;
- `notify` sends each follower an inbox notice, except the actor, inactive users and
  anyone who cannot see the contact at that moment: a notice never reveals a contact its
  reader could not open.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import Actor, EntityRef, SystemActor, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId, new_id
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.contacts.exceptions import NotRecordOwner
from m3crm.modules.contacts.models import Contact, ContactFollower
from m3crm.modules.contacts.policies import can_manage_followers, sees_contact
from m3crm.modules.contacts.repository_followers import FollowerRepository
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel, InboxCategory, Severity
from m3crm.modules.notify.throttle import NoThrottle

FAMILY = "contact.followed_changed"


class Change(enum.StrEnum):
    """What happened to a followed contact (the template words it)."""

    UPDATED = "updated"
    OWNER = "owner"
    MERGED = "merged"


class FollowerService:
    async def list(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact
    ) -> list[User]:
        """The contact's followers, oldest follow first (deactivated users included)."""
        return await FollowerRepository(session, subject.tenant_id).users_of(contact.id)

    async def add(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact, user_id: UUID
    ) -> User:
        if user_id != subject.user_id and not can_manage_followers(subject, contact):
            raise NotRecordOwner()
        repo = FollowerRepository(session, subject.tenant_id)
        user = await session.get(User, (subject.tenant_id, user_id))
        if user is None or user.status is not UserStatus.ACTIVE:
            raise ValidationFailed({"user_id": N_("Choose an active user of your organisation.")})
        if not sees_contact(user_id, await repo.permissions_of(user_id), contact):
            raise ValidationFailed({"user_id": N_("This person cannot see this private contact.")})
        taken = Conflict(N_("This person already follows this contact."))
        if await repo.find(contact.id, user_id) is not None:
            raise taken
        try:
            async with session.begin_nested():  # a concurrent follow loses on the unique key
                repo.add(ContactFollower(contact_id=contact.id, user_id=user_id))
        except IntegrityError:
            raise taken from None
        await record(
            session, subject, "contact.follower.added", EntityRef("contact", contact.id), None,
            {"user_id": str(user_id)},
        )  # fmt: skip
        return user

    async def remove(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact, user_id: UUID
    ) -> None:
        """Someone who does not follow the contact is 404."""
        if user_id != subject.user_id and not can_manage_followers(subject, contact):
            raise NotRecordOwner()
        repo = FollowerRepository(session, subject.tenant_id)
        row = await repo.find(contact.id, user_id)
        if row is None:
            raise NotFound()
        await session.delete(row)
        await session.flush()
        await record(
            session, subject, "contact.follower.removed", EntityRef("contact", contact.id),
            {"user_id": str(user_id)},
        )  # fmt: skip

    async def move(
        self, session: AsyncSession, tenant_id: TenantId, source: UUID, target: UUID
    ) -> int:
        """A merge: the source's followers follow the target (each user once)."""
        return await FollowerRepository(session, tenant_id).move(source, target)

    async def notify(
        self,
        session: AsyncSession,
        actor: Actor,
        contacts: Sequence[Contact],
        change: Change,
        *,
        actor_name: str = "",
    ) -> int:
        """An inbox notice per follower of each contact (see the module rules for who is
        left out); the number sent. Runs in the caller's transaction, after the change."""
        repo = FollowerRepository(session, actor.tenant_id)
        notifier = Notifier(NoThrottle())
        stamp = new_id()
        sent = 0
        for contact in contacts:
            for user_id in await repo.active_user_ids(contact.id):
                if user_id == actor.user_id:
                    continue
                if contact.is_private and not sees_contact(
                    user_id, await repo.permissions_of(user_id), contact
                ):
                    continue
                await notifier.dispatch(
                    session,
                    SystemActor(actor.tenant_id),
                    DispatchRequest(
                        channel=Channel.INBOX,
                        family=FAMILY,
                        payload={
                            "contact": contact.full_name,
                            "change": change.value,
                            "actor": actor_name,
                        },
                        recipient_user_id=user_id,
                        correlation_key=f"contact-followed:{contact.id}:{user_id}:{stamp}",
                        link_url=f"/contacts/{contact.id}",
                        category=InboxCategory.SYSTEM,
                        severity=Severity.INFO,
                    ),
                )
                sent += 1
        return sent


followers = FollowerService()
