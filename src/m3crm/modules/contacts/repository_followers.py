"""Every query on `contact_followers` (CONVENTIONS rule 1)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import BindParameter, Uuid, bindparam, delete, select

from m3crm.kernel.permissions import permission_codes_query
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.contacts.models import ContactFollower

_TENANT_ID: BindParameter[UUID] = bindparam("tenant_id", type_=Uuid)
_USER_ID: BindParameter[UUID] = bindparam("user_id", type_=Uuid)


class FollowerRepository(TenantRepository[ContactFollower]):
    model = ContactFollower

    async def find(self, contact_id: UUID, user_id: UUID) -> ContactFollower | None:
        stmt = self.base_statement().where(
            ContactFollower.contact_id == contact_id, ContactFollower.user_id == user_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def users_of(self, contact_id: UUID) -> list[User]:
        """The followers of a contact as users (any status), oldest follow first."""
        stmt = (
            select(User)
            .join(
                ContactFollower,
                (ContactFollower.tenant_id == User.tenant_id)
                & (ContactFollower.user_id == User.id),
            )
            .where(
                ContactFollower.tenant_id == self.tenant_id,
                ContactFollower.contact_id == contact_id,
            )
            .order_by(ContactFollower.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def active_user_ids(self, contact_id: UUID) -> list[UUID]:
        """Followers who can still be told anything: active users only."""
        return [u.id for u in await self.users_of(contact_id) if u.status is UserStatus.ACTIVE]

    async def move(self, source: UUID, target: UUID) -> int:
        """Give the source's followers to the target; one who follows both keeps the
        target's row (the unique key holds). The number of rows moved."""
        on_target = select(ContactFollower.user_id).where(
            ContactFollower.tenant_id == self.tenant_id, ContactFollower.contact_id == target
        )
        await self.session.execute(
            delete(ContactFollower).where(
                ContactFollower.tenant_id == self.tenant_id,
                ContactFollower.contact_id == source,
                ContactFollower.user_id.in_(on_target),
            )
        )
        moving = self.base_statement().where(ContactFollower.contact_id == source)
        rows = list((await self.session.execute(moving)).scalars())
        for row in rows:
            row.contact_id = target
        await self.session.flush()
        return len(rows)

    async def permissions_of(self, user_id: UUID) -> frozenset[str]:
        """The permission codes `user_id` holds now (the kernel's registered query, the
        same one that authenticates a request)."""
        codes = await self.session.scalar(
            select(permission_codes_query()(_TENANT_ID, _USER_ID)),
            {"tenant_id": self.tenant_id, "user_id": user_id},
        )
        return frozenset(codes or ())
