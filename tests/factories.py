"""Explicit, keyword-only factories (CONVENTIONS rule 10)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import UserStatus
from m3crm.kernel.tenancy.service import create_tenant, create_user
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.access.service import access
from m3crm.modules.plans.service import plan
from m3crm.settings import Settings


@dataclass(frozen=True, slots=True)
class SeededTenant:
    """A tenant with an admin, an Arabic-speaking sales manager (`agent`: may watch runs,
    not requeue them) and a member holding no role."""

    id: TenantId
    slug: str
    admin_id: UUID
    agent_id: UUID
    member_id: UUID


async def make_tenant(
    session: AsyncSession, *, slug: str, plan_code: str | None = "DevPro"
) -> SeededTenant:
    tenant = await create_tenant(session, name=f"Tenant {slug}", slug=slug)
    tid = TenantId(tenant.id)
    await access.install_role_templates(session, tid)
    if plan_code:
        await plan.subscribe(session, tid, plan_code)
    admin = await create_user(session, tenant_id=tid, email=f"admin@{slug}.test", full_name="Admin")
    await access.assign_role(session, tid, admin.id, "admin")
    agent = await create_user(
        session, tenant_id=tid, email=f"agent@{slug}.test", full_name="وكيل المبيعات", locale="ar"
    )
    await access.assign_role(session, tid, agent.id, "sales_manager")
    member = await make_user(session, tenant_id=tid, email=f"member@{slug}.test")
    return SeededTenant(tid, slug, admin.id, agent.id, member)


async def make_user(
    session: AsyncSession,
    *,
    tenant_id: TenantId,
    email: str,
    status: UserStatus = UserStatus.ACTIVE,
    role: str | None = None,
) -> UUID:
    user = await create_user(
        session, tenant_id=tenant_id, email=email, full_name=email, status=status
    )
    if role:
        await access.assign_role(session, tenant_id, user.id, role)
    return user.id


def bearer(settings: Settings, tenant_id: UUID, user_id: UUID) -> dict[str, str]:
    token = mint_access_token(settings, tenant_id=tenant_id, user_id=user_id)
    return {"Authorization": f"Bearer {token}"}
