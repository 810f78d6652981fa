"""Queries of the user administration (`users`, and `sessions` for revocation)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Select, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.pagination import Page, PageRequest, paginate_by_id
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.identity.models import AuthSession


class UserRepository(TenantRepository[User]):
    model = User

    async def page(
        self,
        page: PageRequest,
        *,
        status: UserStatus | None = None,
        holding: Select[UUID] | None = None,
        q: str | None = None,
    ) -> Page[User]:
        """Newest first. `holding` is a subquery of user ids (a role's holders); `q`
        matches name or e-mail, case-insensitively, as a literal substring."""
        stmt = self.base_statement()
        if status is not None:
            stmt = stmt.where(User.status == status)
        if holding is not None:
            stmt = stmt.where(User.id.in_(holding))
        if q:
            stmt = stmt.where(
                or_(
                    User.full_name.icontains(q, autoescape=True),
                    User.email.icontains(q, autoescape=True),
                )
            )
        return await paginate_by_id(self.session, stmt, User.id, page)

    async def seats_in_use(self) -> int:
        """Users holding a seat: every user who is not deactivated."""
        stmt = self.base_statement().where(User.status != UserStatus.DEACTIVATED)
        count = stmt.with_only_columns(func.count(User.id)).order_by(None)
        return int((await self.session.execute(count)).scalar_one())


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
