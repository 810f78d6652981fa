"""Queries on `tenants` (platform table; RLS still limits app traffic to one row)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.tenancy.models import Tenant


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    """For owner-role operations (seeding, sign-up); the app role sees only its tenant."""
    return (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
