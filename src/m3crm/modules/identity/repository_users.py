"""Queries of the user administration (`users`, and `sessions` for revocation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.pagination import Page, PageRequest, paginate_by_id
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.kernel.text import prefix_upper_bound
from m3crm.modules.identity.models import AuthSession, TwoFactor, UserProfile

SUBSTRING_MIN_CHARS = 3
SUBSTRING_WINDOW = 20_000
"""The substring step looks at the newest this many users (every user of any real
workspace); the prefix step always covers everyone. It bounds the worst case (a rare or
absent text) to an index range instead of a read of every user of the tenant."""
NIL_UUID = UUID(int=0)
"""Shorter queries match the start of the text only: one or two characters are inside
most names, so a substring match would list the tenant in no useful order."""


def _starts_with(folded: str) -> ColumnElement[bool]:
    """`search_text` starts with `folded`, as a range on the C-collated column: literal
    (no wildcards), leakproof, a btree range scan in custom and generic plans alike."""
    upper = prefix_upper_bound(folded)
    lower = User.search_text >= folded
    return lower if upper is None else and_(lower, User.search_text < upper)


@dataclass(frozen=True, slots=True)
class UserFilters:
    """The People list's filters; `None` leaves one out, all set ones must hold.

    `within`: subqueries of user ids the user must be in (a role's holders, a group's
    members — other modules' answers). `two_factor`: some second factor on (TOTP, SMS or
    WhatsApp codes) or none. `not_signed_in_since` includes people who never signed in.
    """

    status: UserStatus | None = None
    within: Sequence[Select[UUID]] = ()
    q: str | None = None
    two_factor: bool | None = None
    phone_verified: bool | None = None
    signed_in_after: datetime | None = None
    not_signed_in_since: datetime | None = None
    never_signed_in: bool = False


def _has_two_factor() -> ColumnElement[bool]:
    return exists().where(
        TwoFactor.tenant_id == User.tenant_id,
        TwoFactor.user_id == User.id,
        or_(TwoFactor.totp_enabled, TwoFactor.sms_enabled, TwoFactor.whatsapp_enabled),
    )


def _has_verified_phone() -> ColumnElement[bool]:
    return exists().where(
        UserProfile.tenant_id == User.tenant_id,
        UserProfile.user_id == User.id,
        UserProfile.phone_verified_at.is_not(None),
    )


def _flag(condition: ColumnElement[bool], wanted: bool) -> ColumnElement[bool]:
    return condition if wanted else not_(condition)


class UserRepository(TenantRepository[User]):
    model = User

    async def page(self, page: PageRequest, filters: UserFilters) -> Page[User]:
        """Newest first; `q` matches name or e-mail, case-insensitively, as a literal
        substring."""
        stmt = self.base_statement()
        if filters.status is not None:
            stmt = stmt.where(User.status == filters.status)
        for ids in filters.within:
            stmt = stmt.where(User.id.in_(ids))
        if filters.q:
            stmt = stmt.where(
                or_(
                    User.full_name.icontains(filters.q, autoescape=True),
                    User.email.icontains(filters.q, autoescape=True),
                )
            )
        if filters.two_factor is not None:
            stmt = stmt.where(_flag(_has_two_factor(), filters.two_factor))
        if filters.phone_verified is not None:
            stmt = stmt.where(_flag(_has_verified_phone(), filters.phone_verified))
        if filters.signed_in_after is not None:
            stmt = stmt.where(User.last_login_at >= filters.signed_in_after)
        if filters.not_signed_in_since is not None:
            stmt = stmt.where(
                or_(User.last_login_at.is_(None), User.last_login_at < filters.not_signed_in_since)
            )
        if filters.never_signed_in:
            stmt = stmt.where(User.last_login_at.is_(None))
        return await paginate_by_id(self.session, stmt, User.id, page)

    async def search(self, folded: str, limit: int) -> list[User]:
        """At most `limit` users whose folded name + e-mail (`User.search_text`) contains
        `folded` (a `kernel.text.fold` result; `%`, `_` and `\\` match literally).

        Best first: users whose text *starts with* the query, the first `limit` in
        alphabetical order (a btree range scan: under row-level security only leakproof
        conditions reach an index). Then, only when those are fewer than `limit` and the
        query has at least `SUBSTRING_MIN_CHARS` characters, users containing it further
        in, among the newest `SUBSTRING_WINDOW` users: the first ones the scan meets, shown
        alphabetically. The scan stops at `limit` hits (migration 0006).
        """
        found = await self._matching(_starts_with(folded), limit, first_by_text=True)
        if len(found) >= limit or len(folded) < SUBSTRING_MIN_CHARS:
            return found
        inside = and_(
            User.id >= await self._window_start(),
            User.search_text.contains(folded, autoescape=True),
            ~_starts_with(folded),
        )
        return found + await self._matching(inside, limit - len(found), first_by_text=False)

    async def _window_start(self) -> UUID:
        """The oldest id of the newest `SUBSTRING_WINDOW` users (UUIDv7 ids grow with
        time), fetched on its own so the substring query is planned with a known bound: a
        leakproof primary-key range under row-level security."""
        stmt = (
            select(User.id)
            .where(User.tenant_id == self.tenant_id)
            .order_by(User.id.desc())
            .offset(SUBSTRING_WINDOW - 1)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() or NIL_UUID

    async def _matching(
        self, condition: ColumnElement[bool], limit: int, *, first_by_text: bool
    ) -> list[User]:
        """`limit` users meeting `condition`, alphabetical: the first ones by `search_text`
        when `first_by_text`, else the newest ones (the scan stops at `limit` instead of
        reading and sorting every match). Ids come from the index alone when
        it serves (it carries `id`), then those rows are read."""
        ids = select(User.id, User.search_text).where(User.tenant_id == self.tenant_id, condition)
        # By text for prefixes (a range of the search index); newest first otherwise, which
        # walks the primary key backwards within the window instead of reading the table.
        ids = (
            ids.order_by(User.search_text, User.id)
            if first_by_text
            else ids.order_by(User.id.desc())
        )
        hits = ids.limit(limit).subquery()
        stmt = (
            self.base_statement()
            .join(hits, hits.c.id == User.id)
            .order_by(hits.c.search_text, hits.c.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def by_email(self, email: str) -> User | None:
        """The tenant's user with this (normalised) e-mail, whatever their status."""
        stmt = self.base_statement().where(User.email == email)
        return (await self.session.execute(stmt)).scalar_one_or_none()


async def revoke_sessions(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID, reason: str
) -> int:
    """End every open session of the user now; the number of sessions ended."""
    stmt = (
        update(AuthSession)
        .where(
            AuthSession.tenant_id == tenant_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=func.now(), revoked_reason=reason)
        .returning(AuthSession.id)
    )
    return len((await session.execute(stmt)).all())
