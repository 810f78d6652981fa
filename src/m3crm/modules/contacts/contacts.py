"""Contacts: create, read, list, change, delete, reassign (Section 3 §4, §5, §9, §10).

Rules:
- fetch scoped first (another tenant's id, a tombstone or someone else's private contact
  is 404), then check the record-level right (403 `NotRecordOwner`, see `policies`);
- creating counts against `contacts.max` (422 `LIMIT_REACHED`); `is_private` needs the
  plan feature `contacts.privateRecords` (402);
- ids in a body (company, owner) are resolved inside the tenant: 422 on the field when
  they are not there;
- every change is audited under the spec's event names (`contact.created|updated|deleted`);
- followers hear of every update and owner change (`followers.notify`, inbox);
- deleting keeps the row as a tombstone (`deleted_at`) for the audit trail and frees its
  channels, so the same address can be used again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import Actor, EntityRef, record
from m3crm.kernel.auth import AuthSubject, entitlements_of
from m3crm.kernel.entitlements import load_entitlements
from m3crm.kernel.errors import LimitReached, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ownership import audit_owner_moves
from m3crm.kernel.pagination import Page, PageRequest, Sort
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.contacts.channels import (
    channel_snapshot,
    dedupe_types,
    ensure_free,
    flush_channels,
    normalize,
)
from m3crm.modules.contacts.dedupe import Candidate, dedupe
from m3crm.modules.contacts.exceptions import NotRecordOwner
from m3crm.modules.contacts.followers import Change, followers
from m3crm.modules.contacts.models import ChannelType, Contact, ContactChannel, Lifecycle
from m3crm.modules.contacts.policies import can_edit_contact, viewer
from m3crm.modules.contacts.repository import (
    ChannelRepository,
    ContactFilters,
    ContactRepository,
    LinkRepository,
    Viewer,
)
from m3crm.modules.contacts.repository_companies import CompanyRepository
from m3crm.modules.contacts.repository_duplicates import DuplicateRepository
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.modules.notify.consent import stopped_numbers

CONTACTS_MAX = "contacts.max"
PRIVATE_FEATURE = "contacts.privateRecords"
EDITABLE = (
    "first_name",
    "last_name",
    "job_title",
    "company_id",
    "owner_user_id",
    "lifecycle_stage",
    "is_private",
    "source",
)


@dataclass(frozen=True, slots=True)
class ChannelInput:
    type: ChannelType
    value: str
    is_primary: bool = False
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class ContactInput:
    first_name: str
    last_name: str = ""
    job_title: str | None = None
    company_id: UUID | None = None
    owner_user_id: UUID | None = None
    lifecycle_stage: Lifecycle = Lifecycle.LEAD
    is_private: bool = False
    source: str | None = None
    channels: Sequence[ChannelInput] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContactView:
    """A contact as screens and the API show it: with channels and custom values."""

    contact: Contact
    channels: list[ContactChannel]
    custom_fields: dict[str, Any]
    stopped: frozenset[str] = frozenset()


def snapshot(contact: Contact) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(contact, name) for name in EDITABLE}
    for key in ("company_id", "owner_user_id"):
        values[key] = str(values[key]) if values[key] else None
    values["lifecycle_stage"] = contact.lifecycle_stage.value
    return values


def primary_flags(items: Sequence[ChannelInput]) -> list[bool]:
    """One primary per type: the one marked primary, else the first of its type."""
    marked = {item.type for item in items if item.is_primary}
    flags: list[bool] = []
    taken: set[ChannelType] = set()
    for item in items:
        primary = item.type not in taken and (item.is_primary or item.type not in marked)
        if primary:
            taken.add(item.type)
        flags.append(primary)
    return flags


async def resolve_owner(session: AsyncSession, subject: AuthSubject, user_id: UUID) -> UUID:
    user = await session.get(User, (subject.tenant_id, user_id))
    if user is None or user.status is UserStatus.DEACTIVATED:
        raise ValidationFailed({"owner_user_id": N_("Choose an active user of your organisation.")})
    return user_id


async def _require_private(session: AsyncSession, subject: AuthSubject) -> None:
    """Marking a contact private is the person's feature (their overrides count): 402."""
    entitlements = await entitlements_of(session, subject)
    entitlements.require_feature(PRIVATE_FEATURE)


async def resolve_company(session: AsyncSession, subject: AuthSubject, company_id: UUID) -> UUID:
    if await CompanyRepository(session, subject.tenant_id).get_live(company_id) is None:
        raise ValidationFailed({"company_id": N_("Choose a company of your organisation.")})
    return company_id


class ContactService:
    async def list_page(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        filters: ContactFilters,
        page: PageRequest,
        sort: Sort,
    ) -> Page[ContactView]:
        found = await ContactRepository(session, subject.tenant_id).page(
            await viewer(session, subject), filters, page, sort
        )
        return Page(await self.views(session, subject, found.items), found.next_cursor)

    async def count(
        self, session: AsyncSession, subject: AuthSubject, filters: ContactFilters
    ) -> int:
        repo = ContactRepository(session, subject.tenant_id)
        return await repo.count(await viewer(session, subject), filters)

    async def get_readable(
        self, session: AsyncSession, subject: AuthSubject, contact_id: UUID
    ) -> Contact:
        """404 for another tenant's id, a tombstone, or another person's private contact."""
        repo = ContactRepository(session, subject.tenant_id)
        contact = await repo.get_live(await viewer(session, subject), contact_id)
        if contact is None:
            raise NotFound()
        return contact

    async def get_for_update(
        self, session: AsyncSession, subject: AuthSubject, contact_id: UUID
    ) -> Contact:
        """`get_readable`, then 403 unless the subject owns it or is an admin."""
        contact = await self.get_readable(session, subject, contact_id)
        if not can_edit_contact(subject, contact):
            raise NotRecordOwner()
        return contact

    async def views(
        self, session: AsyncSession, subject: AuthSubject, contacts: Sequence[Contact]
    ) -> list[ContactView]:
        """Channels, custom values and STOP flags of many contacts in three queries."""
        ids = [c.id for c in contacts]
        all_channels = await ChannelRepository(session, subject.tenant_id).of_contacts(ids)
        values = await custom_fields.values_of(session, subject.tenant_id, EntityType.CONTACT, ids)
        numbers = [c.normalized_value for c in all_channels if c.type is not ChannelType.EMAIL]
        stopped = frozenset(await stopped_numbers(session, subject.tenant_id, numbers))
        by_contact: dict[UUID, list[ContactChannel]] = {i: [] for i in ids}
        for channel in all_channels:
            by_contact[channel.contact_id].append(channel)
        return [ContactView(c, by_contact[c.id], values[c.id], stopped) for c in contacts]

    async def view(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact
    ) -> ContactView:
        return (await self.views(session, subject, [contact]))[0]

    async def create(
        self, session: AsyncSession, subject: AuthSubject, data: ContactInput
    ) -> Contact:
        if data.is_private:
            await _require_private(session, subject)
        repo = ContactRepository(session, subject.tenant_id)
        limit = (await load_entitlements(session, subject.tenant_id)).limits.get(CONTACTS_MAX, 0)
        if await repo.count_live() + 1 > limit:
            raise LimitReached(CONTACTS_MAX, limit)
        owner = await resolve_owner(session, subject, data.owner_user_id or subject.user_id)
        company = (
            await resolve_company(session, subject, data.company_id) if data.company_id else None
        )
        normalized = await self._check_channels(session, subject, data.channels)
        checked = await custom_fields.check(
            session,
            subject.tenant_id,
            EntityType.CONTACT,
            data.custom_fields,
            entity_id=None,
            creating=True,
        )
        contact = repo.add(
            Contact(
                first_name=data.first_name,
                last_name=data.last_name,
                job_title=data.job_title,
                company_id=company,
                owner_user_id=owner,
                lifecycle_stage=data.lifecycle_stage,
                is_private=data.is_private,
                source=data.source,
            )
        )
        await session.flush()
        channel_repo = ChannelRepository(session, subject.tenant_id)
        created = [
            channel_repo.add(
                ContactChannel(
                    contact_id=contact.id,
                    type=item.type,
                    value=item.value,
                    normalized_value=value,
                    is_primary=primary,
                    opt_in=False,
                    locale=item.locale,
                )
            )
            for item, value, primary in zip(
                data.channels, normalized, primary_flags(data.channels), strict=True
            )
        ]
        await flush_channels(session, "channels")
        if company is not None:
            await LinkRepository(session, subject.tenant_id).set_primary(contact.id, company)
        await custom_fields.write(
            session, subject.tenant_id, EntityType.CONTACT, contact.id, checked
        )
        await session.flush()
        after = snapshot(contact) | {
            "channels": [channel_snapshot(c) for c in created],
            "custom_fields": dict(data.custom_fields) or None,
        }
        await record(
            session, subject, "contact.created", EntityRef("contact", contact.id), None, after
        )
        await self._remember_soft_matches(session, subject, contact, data)
        return contact

    async def _remember_soft_matches(
        self, session: AsyncSession, subject: AuthSubject, contact: Contact, data: ContactInput
    ) -> None:
        """Duplicate detection on create (Section 3 §2): soft matches are kept for review."""
        candidate = Candidate(
            first_name=data.first_name,
            last_name=data.last_name,
            emails=[c.value for c in data.channels if c.type is ChannelType.EMAIL],
            phones=[c.value for c in data.channels if c.type is not ChannelType.EMAIL],
            company_id=data.company_id,
            exclude_id=contact.id,
        )
        pairs = DuplicateRepository(session, subject.tenant_id)
        for match in await dedupe.check(session, subject, candidate):
            await pairs.remember(contact.id, match.contact.id, match.reason, match.score)

    async def _check_channels(
        self, session: AsyncSession, subject: AuthSubject, items: Sequence[ChannelInput]
    ) -> list[str]:
        """Normalise every channel (422 on `channels.<i>.value`) and refuse blocking
        duplicates, inside the body too (409)."""
        repo = ChannelRepository(session, subject.tenant_id)
        normalized: list[str] = []
        seen: dict[tuple[tuple[ChannelType, ...], str], ChannelType] = {}
        for i, item in enumerate(items):
            where = f"channels.{i}.value"
            value = normalize(item.type, item.value, field=where)
            key = (dedupe_types(item.type), value)
            if seen.get(key) is item.type:
                raise ValidationFailed({where: N_("This channel is listed twice.")})
            seen[key] = item.type
            await ensure_free(repo, item.type, value, field=where, own_contact=None)
            normalized.append(value)
        return normalized

    async def update(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        contact_id: UUID,
        changes: Mapping[str, Any],
        custom: Mapping[str, Any] | None,
    ) -> Contact:
        """`changes` holds only the fields the caller sent (a `None` clears a field)."""
        contact = await self.get_for_update(session, subject, contact_id)
        before = snapshot(contact)
        if changes.get("is_private") and not contact.is_private:
            await _require_private(session, subject)
        for name in ("first_name", "lifecycle_stage", "is_private", "last_name"):
            if changes.get(name) is None and name in changes:
                raise ValidationFailed({name: N_("This field cannot be empty.")})
        if changes.get("owner_user_id") is not None:
            await resolve_owner(session, subject, changes["owner_user_id"])
        if changes.get("company_id") is not None:
            await resolve_company(session, subject, changes["company_id"])
        checked = (
            await custom_fields.check(
                session,
                subject.tenant_id,
                EntityType.CONTACT,
                custom,
                entity_id=contact.id,
                creating=False,
            )
            if custom
            else None
        )
        for name, new_value in changes.items():
            setattr(contact, name, new_value)
        if "company_id" in changes:
            await LinkRepository(session, subject.tenant_id).set_primary(
                contact.id, changes["company_id"]
            )
        if checked is not None:
            await custom_fields.write(
                session, subject.tenant_id, EntityType.CONTACT, contact.id, checked
            )
        contact.updated_at = datetime.now(UTC)
        await session.flush()
        after = snapshot(contact)
        if custom:
            before["custom_fields"], after["custom_fields"] = None, dict(custom)
        if after != before:
            await record(
                session, subject, "contact.updated", EntityRef("contact", contact.id), before, after
            )
            owner_changed = after["owner_user_id"] != before["owner_user_id"]
            await followers.notify(
                session, subject, [contact], Change.OWNER if owner_changed else Change.UPDATED,
                actor_name=subject.card.full_name or subject.card.email,
            )  # fmt: skip
        return contact

    async def delete(self, session: AsyncSession, subject: AuthSubject, contact_id: UUID) -> None:
        contact = await self.get_for_update(session, subject, contact_id)
        before = snapshot(contact)
        await ChannelRepository(session, subject.tenant_id).remove_all(contact.id)
        contact.deleted_at = datetime.now(UTC)
        await session.flush()
        await record(session, subject, "contact.deleted", EntityRef("contact", contact.id), before)

    async def reassign_owner(
        self, session: AsyncSession, actor: Actor, from_user: UUID, to_user: UUID | None
    ) -> int:
        """The user-lifecycle hook: give every contact of `from_user` to `to_user` (or
        nobody). Audited once per contact as `contact.updated`. The number moved."""
        moved = await ContactRepository(session, actor.tenant_id).reassign_owner(from_user, to_user)
        await audit_owner_moves(
            session, actor, "contact.updated", "contact", moved, from_user, to_user
        )
        everyone = Viewer(user_id=from_user, sees_all=True)
        live = await ContactRepository(session, actor.tenant_id).by_ids(everyone, moved)
        await followers.notify(session, actor, live, Change.OWNER)
        return len(moved)


contact = ContactService()
