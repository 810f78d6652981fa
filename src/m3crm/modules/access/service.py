"""Role templates per tenant and role assignment."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.permission_codes import ROLE_TEMPLATES
from m3crm.kernel.permissions import register_permission_loader
from m3crm.modules.access.models import Role, RolePermission, UserRole
from m3crm.modules.access.repository import RoleRepository, permission_codes_of


class AccessService:
    async def install_role_templates(self, session: AsyncSession, tenant_id: TenantId) -> None:
        """Create the seeded roles (DECISIONS §1.2) with their codes; idempotent."""
        repo = RoleRepository(session, tenant_id)
        for code, permissions in ROLE_TEMPLATES.items():
            if await repo.by_code(code) is not None:
                continue
            role = repo.add(Role(code=code, name=code.replace("_", " ").title(), is_system=True))
            await session.flush()
            for permission in sorted(permissions):
                session.add(
                    RolePermission(tenant_id=tenant_id, role_id=role.id, permission_code=permission)
                )
        await session.flush()

    async def assign_role(
        self, session: AsyncSession, tenant_id: TenantId, user_id: UUID, role_code: str
    ) -> None:
        role = await RoleRepository(session, tenant_id).by_code(role_code)
        if role is None:
            raise ValueError(f"no role {role_code!r} in tenant")
        session.add(UserRole(tenant_id=tenant_id, user_id=user_id, role_id=role.id))
        await session.flush()


access = AccessService()


def register() -> None:
    """Wire the access module into the kernel."""
    register_permission_loader(permission_codes_of)
