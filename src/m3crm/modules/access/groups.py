"""Groups and their members (spec §3A.3, §3A.4, §12.4 Groups).

Invariants: a group's `code` is unique in its tenant and never changes; a user is in a
group at most once; creating a group counts against `groups.max` (422 `LIMIT_REACHED`).
A group may give roles to its members (`group_roles`): adding someone to it hands them
those roles' codes, so the caller must hold every one (403), as when giving the roles.
Every change is audited with its before and after. The plan feature `rbac.groups` is
checked by the API, so the service can serve other callers (seeding, imports) too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import load_entitlements, no_growth_past_limit
from m3crm.kernel.errors import (
    Conflict,
    LimitReached,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.plan_catalog import SEATS
from m3crm.modules.access import repository, repository_groups
from m3crm.modules.access.models import Group, GroupMember
from m3crm.modules.access.repository_groups import GroupRepository

GROUPS_MAX = "groups.max"
EDITABLE = ("name", "description", "is_active")


def _state(group: Group) -> dict[str, Any]:
    return {
        "code": group.code,
        "name": group.name,
        "description": group.description,
        "is_active": group.is_active,
    }


async def groups_in_use(session: AsyncSession, tenant_id: TenantId) -> int:
    """Usage of `groups.max`: every group of the tenant, active or not."""
    return await repository.count_rows(session, tenant_id, Group)


class GroupService:
    async def list_groups(
        self, session: AsyncSession, subject: AuthSubject
    ) -> list[tuple[Group, int]]:
        """The tenant's groups with their member counts, by name."""
        return await repository_groups.groups_with_member_counts(session, subject.tenant_id)

    async def detail(
        self, session: AsyncSession, subject: AuthSubject, group_id: UUID
    ) -> tuple[Group, list[GroupMember]]:
        """A group of this tenant (another tenant's id is a 404) and its members."""
        group = await GroupRepository(session, subject.tenant_id).get_or_404(group_id)
        return group, await repository_groups.group_members(session, subject.tenant_id, group.id)

    async def groups_of_user(
        self, session: AsyncSession, subject: AuthSubject, user_id: UUID
    ) -> list[Group]:
        """The groups `user_id` belongs to in the subject's tenant, by name (another
        tenant's user simply has none here: callers fetch the user scoped first)."""
        return await repository_groups.groups_of_user(session, subject.tenant_id, user_id)

    async def create(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        *,
        code: str,
        name: str,
        description: str,
        is_active: bool,
    ) -> Group:
        """A taken code is 409; one group more than `groups.max` is 422 `LIMIT_REACHED`."""
        tenant_id = subject.tenant_id
        limit = (await load_entitlements(session, tenant_id)).limits.get(GROUPS_MAX, 0)
        if await groups_in_use(session, tenant_id) + 1 > limit:
            raise LimitReached(GROUPS_MAX, limit)
        repo = GroupRepository(session, tenant_id)
        taken = Conflict(N_("A group with this code already exists."), details={"code": code})
        if await repo.by_code(code) is not None:
            raise taken
        group = Group(code=code, name=name, description=description, is_active=is_active)
        try:
            async with session.begin_nested():  # a concurrent create loses on the unique key
                repo.add(group)
        except IntegrityError:
            raise taken from None
        await record(
            session, subject, "group.created", EntityRef("group", group.id), None, _state(group)
        )
        return group

    async def update(
        self, session: AsyncSession, subject: AuthSubject, group_id: UUID, changes: dict[str, Any]
    ) -> Group:
        """Apply the given fields (`None` values are ignored); audited only when one changed."""
        group = await GroupRepository(session, subject.tenant_id).get_or_404(group_id)
        before = _state(group)
        for field in EDITABLE:
            if changes.get(field) is not None:
                setattr(group, field, changes[field])
        after = _state(group)
        if after != before:
            # Reactivating a group gives its roles back to its members: seats may grow.
            async with no_growth_past_limit(session, subject.tenant_id, SEATS):
                await session.flush()
            await record(
                session, subject, "group.updated", EntityRef("group", group.id), before, after
            )
        return group

    async def delete(self, session: AsyncSession, subject: AuthSubject, group_id: UUID) -> None:
        """Memberships and the roles it gives go with the group; the audit row keeps who
        was in it and which roles it gave."""
        group = await GroupRepository(session, subject.tenant_id).get_or_404(group_id)
        members = await repository_groups.group_members(session, subject.tenant_id, group.id)
        given = await repository_groups.roles_of_group(session, subject.tenant_id, group.id)
        before = _state(group) | {
            "members": sorted(str(m.user_id) for m in members),
            "roles": [role.code for role in given],
        }
        await session.delete(group)
        await session.flush()
        await record(session, subject, "group.deleted", EntityRef("group", group_id), before, None)

    async def add_members(
        self, session: AsyncSession, subject: AuthSubject, group_id: UUID, user_ids: Sequence[UUID]
    ) -> tuple[Group, list[GroupMember]]:
        """Add users of this tenant; an empty list or another tenant's (or no) user is 422,
        users already in the group are left alone. When the group gives roles, a caller
        lacking any code those roles carry (themselves or below them) is 403 with
        `details.permissions`: nobody hands out rights they lack; members who would hold a
        seat beyond `users.max` through its roles → 422 `LIMIT_REACHED`."""
        tenant_id = subject.tenant_id
        group = await GroupRepository(session, tenant_id).get_or_404(group_id)
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            raise ValidationFailed({"user_ids": N_("Choose at least one user.")})
        known = await repository.existing_user_ids(session, tenant_id, wanted)
        if unknown := [str(u) for u in wanted if u not in known]:
            raise ValidationFailed.unknown(
                "user_ids", N_("Choose people of your organisation."), unknown
            )
        current = await repository_groups.group_members(session, tenant_id, group.id)
        before = sorted(str(m.user_id) for m in current)
        held = {m.user_id for m in current}
        adding = [u for u in wanted if u not in held]
        if adding:
            given = await repository_groups.roles_of_group(session, tenant_id, group.id)
            granted = await repository.codes_carried(session, tenant_id, [r.id for r in given])
            if missing := sorted(granted - subject.permissions):
                raise PermissionDenied(details={"permissions": missing})
            async with no_growth_past_limit(session, tenant_id, SEATS):
                try:
                    async with session.begin_nested():  # a concurrent add loses on the key
                        session.add_all(
                            GroupMember(tenant_id=tenant_id, group_id=group.id, user_id=u)
                            for u in adding
                        )
                except IntegrityError:
                    raise Conflict(
                        N_("The group's members changed meanwhile; try again.")
                    ) from None
            after = sorted(before + [str(u) for u in adding])
            await record(
                session, subject, "group.members.changed", EntityRef("group", group.id),
                {"members": before}, {"members": after},
            )  # fmt: skip
        return group, await repository_groups.group_members(session, tenant_id, group.id)

    async def remove_member(
        self, session: AsyncSession, subject: AuthSubject, group_id: UUID, user_id: UUID
    ) -> None:
        """A user who is not in the group (or another tenant's group) is 404."""
        tenant_id = subject.tenant_id
        group = await GroupRepository(session, tenant_id).get_or_404(group_id)
        before = sorted(
            str(m.user_id)
            for m in await repository_groups.group_members(session, tenant_id, group.id)
        )
        if not await repository_groups.delete_group_member(session, tenant_id, group.id, user_id):
            raise NotFound()
        after = [u for u in before if u != str(user_id)]
        await record(
            session, subject, "group.members.changed", EntityRef("group", group.id),
            {"members": before}, {"members": after},
        )  # fmt: skip


groups = GroupService()
