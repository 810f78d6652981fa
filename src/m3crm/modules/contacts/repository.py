"""Every query on `contacts`, `contact_channels` and `contact_links` (CONVENTIONS rule 1).

`live_statement` is the base of everything a person sees: tenant-filtered, tombstones
(merged or deleted) left out, and private contacts of others hidden unless the viewer
may see every contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from m3crm.kernel.pagination import Page, PageRequest, Sort, paginate_sorted
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.text import fold
from m3crm.modules.contacts.models import (
    ChannelType,
    Contact,
    ContactChannel,
    ContactLink,
    Lifecycle,
)

PHONE_TYPES = (ChannelType.PHONE, ChannelType.WHATSAPP)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: private contacts of others are visible only when `sees_all`;
    `owner_scope` (from `kernel.visibility`) narrows to the owners the viewer's record
    visibility scope admits (None: every owner)."""

    user_id: UUID
    sees_all: bool
    owner_scope: ColumnElement[bool] | None = None


@dataclass(frozen=True, slots=True)
class ContactFilters:
    owner_user_id: UUID | None = None
    company_id: UUID | None = None
    lifecycle: Lifecycle | None = None
    verified: bool | None = None
    """Has (True) or has not (False) a verified channel."""
    q: str | None = None
    segment: ColumnElement[bool] | None = None
    """A compiled segment condition (see `repository_segments`)."""


CONTAINS_WINDOW = 5_000
NIL_UUID = UUID(int=0)
"""The smallest id: the window starts there when the tenant has fewer contacts than it."""
"""How many of the newest contacts a "name contains" search looks through: under RLS a
LIKE '%x%' cannot use an index, so it is bounded instead of scanning the tenant."""


def starts_with(
    column: ColumnElement[str] | InstrumentedAttribute[str], prefix: str
) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range on a "C"-collated key: `>=` and `<` are
    leakproof, so PostgreSQL uses the btree under row-level security (LIKE it would not)."""
    if not prefix:
        return column.is_not(None)
    last = prefix[-1]
    if ord(last) >= 0x10FFFF:
        return column >= prefix
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(last) + 1))


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def digits_of(value: str) -> str:
    return "".join(c for c in fold(value) if c.isdigit())


class ContactRepository(TenantRepository[Contact]):
    model = Contact

    def live_statement(self, viewer: Viewer) -> Select[Contact]:
        stmt = self.base_statement().where(
            Contact.merged_into_id.is_(None), Contact.deleted_at.is_(None)
        )
        if not viewer.sees_all:
            stmt = stmt.where(
                or_(Contact.is_private.is_(False), Contact.owner_user_id == viewer.user_id)
            )
        if viewer.owner_scope is not None:
            stmt = stmt.where(viewer.owner_scope)
        return stmt

    async def in_scope(self, viewer: Viewer, contact_id: UUID) -> bool:
        """Whether the viewer's visibility scope admits the contact (any state)."""
        stmt = self.base_statement().where(Contact.id == contact_id)
        if viewer.owner_scope is not None:
            stmt = stmt.where(viewer.owner_scope)
        found = await self.session.execute(stmt.with_only_columns(Contact.id))
        return found.scalar_one_or_none() is not None

    async def get_live(self, viewer: Viewer, contact_id: UUID) -> Contact | None:
        stmt = self.live_statement(viewer).where(Contact.id == contact_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock(self, contact_ids: Sequence[UUID]) -> dict[UUID, Contact]:
        """Lock rows (any state) in id order, so two merges cannot deadlock."""
        stmt = (
            self.base_statement()
            .where(Contact.id.in_(contact_ids))
            .order_by(Contact.id)
            .with_for_update()
        )
        return {c.id: c for c in (await self.session.execute(stmt)).scalars()}

    def matching(self, viewer: Viewer, filters: ContactFilters) -> Select[Contact]:
        stmt = self.live_statement(viewer)
        if filters.owner_user_id is not None:
            stmt = stmt.where(Contact.owner_user_id == filters.owner_user_id)
        if filters.company_id is not None:
            stmt = stmt.where(Contact.company_id == filters.company_id)
        if filters.lifecycle is not None:
            stmt = stmt.where(Contact.lifecycle_stage == filters.lifecycle)
        if filters.verified is not None:
            verified = self.has_channel(ContactChannel.verified_at.is_not(None))
            stmt = stmt.where(verified if filters.verified else ~verified)
        if filters.segment is not None:
            stmt = stmt.where(filters.segment)
        if filters.q:
            stmt = stmt.where(self.text_match(filters.q))
        return stmt

    def text_match(self, q: str) -> ColumnElement[bool]:
        """A first or last name starting with the folded `q`, an e-mail starting with it,
        or a phone number ending with its digits (at least 3) — leakproof ranges only, so
        every branch is an index scan under RLS."""
        folded = fold(q.strip())
        clauses = [
            starts_with(Contact.search_name, folded),
            starts_with(Contact.search_last, folded),
        ]
        if "@" in folded or "." in folded:
            clauses.append(Contact.id.in_(self._channel_prefix((ChannelType.EMAIL,), folded)))
        digits = digits_of(q)
        if len(digits) >= 3:
            clauses.append(Contact.id.in_(self._phone_suffix(digits)))
        return or_(*clauses)

    def _channel_prefix(self, types: Sequence[ChannelType], prefix: str) -> Select[UUID]:
        return select(ContactChannel.contact_id).where(
            ContactChannel.tenant_id == self.tenant_id,
            ContactChannel.type.in_(types),
            starts_with(ContactChannel.search_value, prefix),
        )

    def _phone_suffix(self, digits: str) -> Select[UUID]:
        """Numbers ending with `digits`: their reversed digits start with them reversed."""
        return self._channel_prefix(PHONE_TYPES, digits[::-1])

    async def page(
        self, viewer: Viewer, filters: ContactFilters, page: PageRequest, sort: Sort
    ) -> Page[Contact]:
        return await paginate_sorted(
            self.session, self.matching(viewer, filters), Contact.id, page, sort
        )

    async def count(self, viewer: Viewer, filters: ContactFilters) -> int:
        stmt = self.matching(viewer, filters).with_only_columns(func.count()).order_by(None)
        return int((await self.session.execute(stmt)).scalar_one())

    async def count_live(self) -> int:
        """Contacts counted against the plan (`contacts.max`): every live one."""
        stmt = select(func.count()).where(
            Contact.tenant_id == self.tenant_id,
            Contact.merged_into_id.is_(None),
            Contact.deleted_at.is_(None),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def search(self, viewer: Viewer, q: str, limit: int) -> list[Contact]:
        """Global search in bounded index scans: digits → numbers ending with them; `@` →
        e-mails starting with it; otherwise first names, then last names, starting with
        the folded query (in name order), then — only if that leaves room — names
        containing it among the newest `CONTAINS_WINDOW` contacts."""
        folded = fold(q.strip())
        digits = digits_of(q)
        live = self.live_statement(viewer)
        if (len(digits) >= 3 and not any(c.isalpha() for c in folded)) or "@" in folded:
            channels = (
                self._channel_prefix((ChannelType.EMAIL,), folded)
                if "@" in folded
                else self._phone_suffix(digits)
            )
            holders = list((await self.session.execute(channels.limit(limit * 4))).scalars())
            stmt = live.where(Contact.id.in_(holders)).limit(limit)
            return list((await self.session.execute(stmt)).scalars())
        found: list[Contact] = []
        for key in (Contact.search_name, Contact.search_last):
            stmt = (
                live.where(starts_with(key, folded), Contact.id.not_in([c.id for c in found]))
                .order_by(key, Contact.id)
                .limit(limit - len(found))
            )
            found += (await self.session.execute(stmt)).scalars()
            if len(found) >= limit:
                return found
        # The window is an id range (UUIDv7 ids grow with time), its start fetched first:
        # with the bound known when the query is planned, `id >= bound` (leakproof) is a
        # primary-key range under row-level security; an `IN (newest ids)` semi-join or a
        # sub-select bound left the planner reading every contact of the tenant.
        oldest_in_window = (
            select(Contact.id)
            .where(Contact.tenant_id == self.tenant_id)
            .order_by(Contact.id.desc())
            .offset(CONTAINS_WINDOW - 1)
            .limit(1)
        )
        bound = (await self.session.execute(oldest_in_window)).scalar_one_or_none()
        containing = live.where(
            Contact.id >= (bound or NIL_UUID),
            Contact.search_name.like(f"%{escape_like(folded)}%", escape="\\"),
            Contact.id.not_in([c.id for c in found]),
        )
        newest_first = containing.order_by(Contact.id.desc()).limit(limit - len(found))
        found += (await self.session.execute(newest_first)).scalars()
        return found

    async def same_names(
        self, viewer: Viewer, folded_name: str, *, excluding: UUID | None, limit: int = 20
    ) -> list[Contact]:
        stmt = self.live_statement(viewer).where(Contact.search_name == folded_name)
        if excluding is not None:
            stmt = stmt.where(Contact.id != excluding)
        return list((await self.session.execute(stmt.limit(limit))).scalars())

    async def with_phone_suffix(
        self, viewer: Viewer, digits: str, *, excluding: UUID | None, limit: int = 20
    ) -> list[Contact]:
        stmt = self.live_statement(viewer).where(Contact.id.in_(self._phone_suffix(digits)))
        if excluding is not None:
            stmt = stmt.where(Contact.id != excluding)
        return list((await self.session.execute(stmt.limit(limit))).scalars())

    async def by_ids(self, viewer: Viewer, ids: Sequence[UUID]) -> list[Contact]:
        if not ids:
            return []
        stmt = self.live_statement(viewer).where(Contact.id.in_(ids))
        return list((await self.session.execute(stmt)).scalars())

    async def count_owned(self, user_id: UUID) -> int:
        """Live contacts the user owns (the user lifecycle's ownership check)."""
        stmt = select(func.count()).where(
            Contact.tenant_id == self.tenant_id,
            Contact.owner_user_id == user_id,
            Contact.merged_into_id.is_(None),
            Contact.deleted_at.is_(None),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def reassign_owner(self, from_user: UUID, to_user: UUID | None) -> list[UUID]:
        stmt = (
            update(Contact)
            .where(Contact.tenant_id == self.tenant_id, Contact.owner_user_id == from_user)
            .values(owner_user_id=to_user, updated_at=func.now())
            .returning(Contact.id)
        )
        return [row[0] for row in (await self.session.execute(stmt)).all()]

    async def detach_company(self, company_id: UUID) -> None:
        await self.session.execute(
            update(Contact)
            .where(Contact.tenant_id == self.tenant_id, Contact.company_id == company_id)
            .values(company_id=None, updated_at=func.now())
        )

    def has_channel(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        """`EXISTS` a channel of the contact row meeting `condition` (for segments)."""
        return exists(
            select(ContactChannel.id).where(
                ContactChannel.tenant_id == self.tenant_id,
                ContactChannel.contact_id == Contact.id,
                condition,
            )
        )


class ChannelRepository(TenantRepository[ContactChannel]):
    model = ContactChannel

    async def of_contacts(self, contact_ids: Sequence[UUID]) -> list[ContactChannel]:
        if not contact_ids:
            return []
        stmt = (
            self.base_statement()
            .where(ContactChannel.contact_id.in_(contact_ids))
            .order_by(ContactChannel.type, ContactChannel.is_primary.desc(), ContactChannel.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def of_contact(self, contact_id: UUID, channel_id: UUID) -> ContactChannel | None:
        stmt = self.base_statement().where(
            ContactChannel.contact_id == contact_id, ContactChannel.id == channel_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def holders(
        self, types: Sequence[ChannelType], values: Sequence[str]
    ) -> list[ContactChannel]:
        """Channels of any contact with one of these normalised values."""
        if not values:
            return []
        stmt = self.base_statement().where(
            ContactChannel.type.in_(types), ContactChannel.normalized_value.in_(values)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def clear_primary(self, contact_id: UUID, type: ChannelType, keep: UUID) -> None:
        await self.session.execute(
            update(ContactChannel)
            .where(
                ContactChannel.tenant_id == self.tenant_id,
                ContactChannel.contact_id == contact_id,
                ContactChannel.type == type,
                ContactChannel.id != keep,
            )
            .values(is_primary=False)
        )

    async def move(self, source: UUID, target: UUID) -> list[ContactChannel]:
        """Give every channel of `source` to `target`; primaries the target already has
        of a type stay primary (the moved ones of that type become secondary)."""
        moved = list(
            (
                await self.session.execute(
                    self.base_statement().where(ContactChannel.contact_id == source)
                )
            ).scalars()
        )
        primary_types = {c.type for c in await self.of_contacts([target]) if c.is_primary}
        for channel in moved:
            channel.contact_id = target
            if channel.type in primary_types:
                channel.is_primary = False
            elif channel.is_primary:
                primary_types.add(channel.type)
        return moved

    async def remove_all(self, contact_id: UUID) -> None:
        await self.session.execute(
            delete(ContactChannel).where(
                ContactChannel.tenant_id == self.tenant_id,
                ContactChannel.contact_id == contact_id,
            )
        )


class LinkRepository(TenantRepository[ContactLink]):
    model = ContactLink

    async def of_contact(self, contact_id: UUID) -> list[ContactLink]:
        stmt = self.base_statement().where(ContactLink.contact_id == contact_id)
        return list((await self.session.execute(stmt.order_by(ContactLink.id))).scalars())

    async def find(self, contact_id: UUID, company_id: UUID) -> ContactLink | None:
        stmt = self.base_statement().where(
            ContactLink.contact_id == contact_id, ContactLink.company_id == company_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_primary(self, contact_id: UUID, company_id: UUID | None) -> None:
        """Mark the link to `company_id` primary (creating it) and no other."""
        await self.session.execute(
            update(ContactLink)
            .where(ContactLink.tenant_id == self.tenant_id, ContactLink.contact_id == contact_id)
            .values(is_primary=ContactLink.company_id == company_id)
        )
        if company_id is not None and await self.find(contact_id, company_id) is None:
            self.add(ContactLink(contact_id=contact_id, company_id=company_id, is_primary=True))

    async def move(self, source: UUID, target: UUID) -> int:
        """Links of `source` to companies the target is not linked to move to it (as
        secondary links); the others are dropped. The number of links moved."""
        held = select(ContactLink.company_id).where(
            ContactLink.tenant_id == self.tenant_id, ContactLink.contact_id == target
        )
        result = await self.session.execute(
            update(ContactLink)
            .where(
                ContactLink.tenant_id == self.tenant_id,
                ContactLink.contact_id == source,
                ContactLink.company_id.not_in(held.scalar_subquery()),
            )
            .values(contact_id=target, is_primary=False)
            .returning(ContactLink.id)
        )
        moved = len(result.all())
        await self.session.execute(
            delete(ContactLink).where(
                ContactLink.tenant_id == self.tenant_id, ContactLink.contact_id == source
            )
        )
        return moved
