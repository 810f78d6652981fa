"""Roles a group gives its members (spec §12.4 "assign default roles", §3A §9).

Invariants: every member of an **active** group holds the group's roles for as long as
they are a member; nothing is copied onto the user, so joining, leaving, (de)activating
the group or changing its roles counts on the next request (`repository.role_holdings`).
A role is given at most once per group. `super_admin` is never given through a group
(422): it stays a deliberate, per-person assignment the last-super-admin rule can see.
Giving a role to a group hands its codes, those of the roles below it included, to
every member, so the caller must hold every one of them (403 listing the missing codes),
as for a role's own codes or a hierarchy edge. Every change is audited
`group.roles.changed` with the role codes before and after.

Seats: a viewer-only member given a paid role through a group then holds a seat (the
seat count reads `role_holdings`), but, as for `AccessService.change_user_roles`, the
change itself does not check the plan's `users.max` (seats live in the identity
module, which access does not import): the count may exceed the limit until an admin
acts, and the next invitation or reinstatement is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import no_growth_past_limit
from m3crm.kernel.errors import PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.plan_catalog import SEATS
from m3crm.modules.access import repository, repository_groups
from m3crm.modules.access.models import Group, Role
from m3crm.modules.access.repository_groups import GroupRepository
from m3crm.modules.access.service import SUPER_ADMIN


class GroupRoleService:
    async def roles(
        self, session: AsyncSession, subject: AuthSubject, group_id: UUID
    ) -> tuple[Group, list[Role]]:
        """A group of this tenant (another tenant's id is a 404) and the roles it gives,
        by code."""
        group = await GroupRepository(session, subject.tenant_id).get_or_404(group_id)
        return group, await repository_groups.roles_of_group(session, subject.tenant_id, group.id)

    async def set_roles(
        self, session: AsyncSession, subject: AuthSubject, group_id: UUID, codes: Sequence[str]
    ) -> tuple[Group, list[Role]]:
        """Make `codes` exactly the roles the group gives. Refusals in order: another
        tenant's (or no) group → 404; a code not in the tenant, or `super_admin` → 422 on
        `roles`; a role added carrying (itself or below it) a code the caller lacks → 403
        with `details.permissions`; members who would hold a seat beyond `users.max`
        through it → 422 `LIMIT_REACHED`. Taking a role off needs no more than the right
        to manage groups. Audited only when the set changes."""
        tenant_id = subject.tenant_id
        group, before = await self.roles(session, subject, group_id)
        wanted = list(dict.fromkeys(codes))
        found = {r.code: r for r in await repository.roles_by_codes(session, tenant_id, wanted)}
        if unknown := [c for c in wanted if c not in found]:
            raise ValidationFailed.unknown("roles", N_("Choose roles from the list."), unknown)
        if SUPER_ADMIN in found:
            raise ValidationFailed(
                {"roles": N_("The super admin role is given to people, not to groups.")}
            )
        held = {r.id for r in before}
        adding = [found[c].id for c in wanted if found[c].id not in held]
        granted = await repository.codes_carried(session, tenant_id, adding)
        if missing := sorted(granted - subject.permissions):
            raise PermissionDenied(details={"permissions": missing})
        codes_before = sorted(r.code for r in before)
        codes_after = sorted(found)
        if codes_after != codes_before:
            async with no_growth_past_limit(session, tenant_id, SEATS):
                await repository_groups.replace_group_roles(
                    session, tenant_id, group.id, [found[c].id for c in codes_after]
                )
            await record(
                session, subject, "group.roles.changed", EntityRef("group", group.id),
                {"roles": codes_before}, {"roles": codes_after},
            )  # fmt: skip
        return group, [found[c] for c in codes_after]


group_roles = GroupRoleService()
