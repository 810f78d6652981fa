"""Role templates per tenant and role assignment."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.permission_codes import ROLE_TEMPLATES
from m3crm.kernel.permissions import register_permission_query
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access import repository
from m3crm.modules.access.models import Role, RolePermission, UserRole
from m3crm.modules.access.repository import RoleRepository, permission_codes_of

SUPER_ADMIN = "super_admin"
# Holding this code is what "admin rights" means for a caller editing their own roles:
# without it nobody could give the rights back.
ADMIN_RIGHT = "role.assign"


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

    async def list_roles(
        self, session: AsyncSession, subject: AuthSubject
    ) -> list[tuple[Role, int]]:
        """The tenant's roles with their holder counts."""
        return await repository.roles_with_user_counts(session, subject.tenant_id)

    async def role_permissions(
        self, session: AsyncSession, subject: AuthSubject, role_id: UUID
    ) -> tuple[Role, list[str]]:
        """A role of this tenant (another tenant's id is a 404) and its codes, sorted."""
        role = await RoleRepository(session, subject.tenant_id).get_or_404(role_id)
        codes = await repository.role_permission_codes(session, subject.tenant_id, [role.id])
        return role, sorted(codes)

    async def roles_of_users(
        self, session: AsyncSession, tenant_id: TenantId, user_ids: Sequence[UUID]
    ) -> dict[UUID, list[str]]:
        """Role codes per user (sorted); a user without roles maps to `[]`."""
        found = await repository.roles_of_users(session, tenant_id, user_ids)
        return {uid: [r.code for r in found.get(uid, [])] for uid in user_ids}

    def user_ids_holding(self, tenant_id: TenantId, role_code: str) -> Select[UUID]:
        return repository.user_ids_holding(tenant_id, role_code)

    async def is_last_super_admin(
        self, session: AsyncSession, tenant_id: TenantId, user: User
    ) -> bool:
        """Whether `user` is the only active holder of `super_admin` in the tenant."""
        if user.status != UserStatus.ACTIVE:
            return False
        held = (await self.roles_of_users(session, tenant_id, [user.id]))[user.id]
        if SUPER_ADMIN not in held:
            return False
        return (
            await repository.active_holders(session, tenant_id, SUPER_ADMIN, excluding=user.id) == 0
        )

    async def change_user_roles(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        user_id: UUID,
        *,
        assign: Sequence[str],
        remove: Sequence[str],
    ) -> list[str]:
        """Give and take roles by code; returns the user's codes afterwards.

        Order of refusals: another tenant's (or no) user → 404; a code not in the tenant,
        or in both lists → 422; a role granting codes the caller lacks → 403; taking the
        last active super admin's role, or the caller's own `role.assign` → 409.
        Assigning a held role or removing an absent one changes nothing.
        """
        tenant_id = subject.tenant_id
        user = await session.get(User, (tenant_id, user_id))
        if user is None:
            raise NotFound()
        errors: dict[str, str] = {}
        wanted = {"assign": list(dict.fromkeys(assign)), "remove": list(dict.fromkeys(remove))}
        roles: dict[str, Role] = {}
        for field, codes in wanted.items():
            found = {r.code: r for r in await repository.roles_by_codes(session, tenant_id, codes)}
            unknown = [c for c in codes if c not in found]
            if unknown:
                errors[field] = f"Unknown role: {', '.join(unknown)}"
            roles.update(found)
        if both := set(wanted["assign"]) & set(wanted["remove"]):
            errors["remove"] = f"Both assigned and removed: {', '.join(sorted(both))}"
        if errors:
            raise ValidationFailed(errors)

        before = (await repository.roles_of_users(session, tenant_id, [user_id])).get(user_id, [])
        held = {r.code: r for r in before}
        adding = [roles[c] for c in wanted["assign"] if c not in held]
        removing = [held[c] for c in wanted["remove"] if c in held]
        granted = await repository.role_permission_codes(session, tenant_id, [r.id for r in adding])
        if not granted <= subject.permissions:
            raise PermissionDenied(details={"permissions": sorted(granted - subject.permissions)})
        after_roles = [r for r in before if r not in removing] + adding
        if any(r.code == SUPER_ADMIN for r in removing) and await self.is_last_super_admin(
            session, tenant_id, user
        ):
            raise Conflict(N_("The organisation must keep at least one active super admin."))
        if user_id == subject.user_id and removing:
            left = await repository.role_permission_codes(
                session, tenant_id, [r.id for r in after_roles]
            )
            if ADMIN_RIGHT not in left:
                raise Conflict(N_("You cannot take away your own right to manage roles."))

        codes_before = sorted(held)
        if adding:
            for role in adding:
                session.add(UserRole(tenant_id=tenant_id, user_id=user_id, role_id=role.id))
            await session.flush()
        if removing:
            await repository.delete_user_roles(
                session, tenant_id, user_id, [r.id for r in removing]
            )
        codes_after = sorted(
            ({*codes_before} | {r.code for r in adding}) - {r.code for r in removing}
        )
        if codes_after != codes_before:
            await record(
                session,
                subject,
                "user.role.changed",
                EntityRef("user", user_id),
                {"roles": codes_before},
                {"roles": codes_after},
            )
        return sorted(r.code for r in after_roles)


access = AccessService()


def register() -> None:
    """Wire the access module into the kernel."""
    register_permission_query(permission_codes_of)
