"""Creating tenants and users. Callers hold a connection allowed to insert tenants
(the owner, during seeding and sign-up's SECURITY DEFINER step)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import TenantId, new_id
from m3crm.kernel.tenancy.models import Tenant, User, UserStatus


async def create_tenant(
    session: AsyncSession, *, name: str, slug: str, default_locale: str = "en"
) -> Tenant:
    """Insert a tenant and bind the transaction to it (RLS checks the new row's id)."""
    tenant_id = new_id()
    await bind_tenant(session, tenant_id, None)
    tenant = Tenant(id=tenant_id, name=name, slug=slug, default_locale=default_locale)
    session.add(tenant)
    await session.flush()
    return tenant


async def create_user(
    session: AsyncSession,
    *,
    tenant_id: TenantId,
    email: str,
    full_name: str,
    password_hash: str | None = None,
    locale: str = "en",
    status: UserStatus = UserStatus.ACTIVE,
    is_verified: bool = True,
) -> User:
    user = User(
        tenant_id=tenant_id,
        email=email,
        full_name=full_name,
        locale=locale,
        status=status,
        is_verified=is_verified,
        password_hash=password_hash,
    )
    session.add(user)
    await session.flush()
    return user
