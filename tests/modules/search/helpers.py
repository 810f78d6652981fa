"""People to search for, made in tenant A inside the test's transaction."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.kernel.tenancy.service import create_user
from m3crm.modules.access.service import access


async def person(
    session: AsyncSession,
    tenant_id: TenantId,
    full_name: str,
    email: str,
    *,
    status: UserStatus = UserStatus.ACTIVE,
    role: str | None = None,
    is_verified: bool = True,
) -> UUID:
    await bind_tenant(session, tenant_id, None)
    user = await create_user(
        session,
        tenant_id=tenant_id,
        email=email,
        full_name=full_name,
        status=status,
        is_verified=is_verified,
    )
    if role:
        await access.assign_role(session, tenant_id, user.id, role)
    return user.id
