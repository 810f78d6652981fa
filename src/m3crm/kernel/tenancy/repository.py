"""Queries on `tenants` (platform table; RLS still limits app traffic to one row) and the
look-ups of users by e-mail that operator commands need."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.tenancy.models import Tenant, User


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    """For owner-role operations (seeding, sign-up); the app role sees only its tenant."""
    return (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()


async def user_by_email(session: AsyncSession, tenant_id: UUID, email: str) -> User | None:
    """The tenant's user with this e-mail (case-insensitive: the column is citext)."""
    stmt = select(User).where(User.tenant_id == tenant_id, User.email == email)
    return (await session.execute(stmt)).scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: UUID) -> User | None:
    """A user of the tenant the session is bound to (RLS hides every other tenant's)."""
    return (await session.execute(select(User).where(User.id == user_id))).scalar_one_or_none()
