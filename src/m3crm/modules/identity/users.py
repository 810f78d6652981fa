"""User administration (spec §1.4 Invitations & Users, §12.2 lifecycle).

Status changes are explicit transitions (`TRANSITIONS`), each needing its own permission
(`STATUS_RIGHTS`; `DELETE` deactivates under `user.delete`); a user is never deleted, only
deactivated, so the audit trail keeps pointing at them. Suspending or deactivating ends
the user's sessions in the same transaction; their access tokens stop working at once
because `current_subject` refuses users that are not active.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ownership import owned_records, reassign_all
from m3crm.kernel.pagination import Page, PageRequest
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.access.service import access as access_service
from m3crm.modules.identity import notices, repository, repository_seats, seats, twofa
from m3crm.modules.identity.email_links import send_password_reset
from m3crm.modules.identity.models import AuthSession
from m3crm.modules.identity.repository_phone import profile_of
from m3crm.modules.identity.repository_users import UserFilters, UserRepository, revoke_sessions
from m3crm.modules.identity.twofa import TwoFactorStatus
from m3crm.modules.identity.work_codes import set_work_codes
from m3crm.modules.notify.dispatch import Notifier
from m3crm.settings import Settings

ACTIVE, SUSPENDED, DEACTIVATED = UserStatus.ACTIVE, UserStatus.SUSPENDED, UserStatus.DEACTIVATED

TRANSITIONS: dict[tuple[UserStatus, UserStatus], str] = {
    (ACTIVE, SUSPENDED): "user.suspended",
    (SUSPENDED, ACTIVE): "user.reinstated",
    (ACTIVE, DEACTIVATED): "user.deactivated",
    (SUSPENDED, DEACTIVATED): "user.deactivated",
    (DEACTIVATED, ACTIVE): "user.reinstated",
}
STATUS_RIGHTS: dict[UserStatus, str] = {
    SUSPENDED: "user.suspend",
    DEACTIVATED: "user.deactivate",
    ACTIVE: "user.reinstate",
}
"""The permission a change to each status needs, whichever way it is asked for (PATCH,
the lifecycle endpoints, the screens): `user.update` alone changes the profile only."""
REVOKED_REASON = "user_suspended"
FORCED_REASON = "forced_logout"


@dataclass(frozen=True, slots=True)
class UserWithRoles:
    user: User
    roles: list[str]


@dataclass(frozen=True, slots=True)
class UserChanges:
    """A PATCH: `None` leaves the field as it is."""

    full_name: str | None = None
    locale: str | None = None
    status: UserStatus | None = None
    reassign_to: UUID | None = None
    """Suspend / deactivate: the new owner of the user's records (DECISIONS §12.4)."""
    # Profile field → code (`None` clears it); see `identity.work_codes`.
    work_codes: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserSecurity:
    """One user's sign-in security as an administrator sees it (read-only)."""

    two_factor: TwoFactorStatus
    phone_e164: str | None
    phone_verified_at: datetime | None
    phone_country: str | None
    failed_logins: int
    locked_until: datetime | None
    """Sign-in refused until then (too many wrong passwords); past or `None`: not locked."""
    password_changed_at: datetime | None
    sessions: list[AuthSession]
    """Live sessions (signed-in devices), most recently seen first."""


def _profile(user: User) -> dict[str, Any]:
    return {"full_name": user.full_name, "locale": user.locale}


@dataclass(frozen=True, slots=True)
class PeopleQuery:
    """What the People list (API and screen) can be narrowed by; see `UserFilters`."""

    status: UserStatus | None = None
    role: str | None = None
    group_id: UUID | None = None
    q: str | None = None
    two_factor: bool | None = None
    phone_verified: bool | None = None
    signed_in_after: datetime | None = None
    not_signed_in_since: datetime | None = None
    never_signed_in: bool = False


class UserAdminService:
    async def list_users(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        page: PageRequest,
        query: PeopleQuery | None = None,
    ) -> Page[UserWithRoles]:
        """The People list, newest first, narrowed by `query` (role and group through
        the access module)."""
        query = query or PeopleQuery()
        tenant_id = subject.tenant_id
        within = []
        if query.role:
            within.append(access_service.user_ids_holding(tenant_id, query.role))
        if query.group_id:
            within.append(access_service.user_ids_in_group(tenant_id, query.group_id))
        filters = UserFilters(
            status=query.status,
            within=within,
            q=query.q,
            two_factor=query.two_factor,
            phone_verified=query.phone_verified,
            signed_in_after=query.signed_in_after,
            not_signed_in_since=query.not_signed_in_since,
            never_signed_in=query.never_signed_in,
        )
        found = await UserRepository(session, tenant_id).page(page, filters)
        return Page(
            items=await self._with_roles(session, subject, found.items),
            next_cursor=found.next_cursor,
        )

    async def get(
        self, session: AsyncSession, subject: AuthSubject, user_id: UUID
    ) -> UserWithRoles:
        user = await UserRepository(session, subject.tenant_id).get_or_404(user_id)
        return (await self._with_roles(session, subject, [user]))[0]

    async def security(
        self, session: AsyncSession, subject: AuthSubject, user: User
    ) -> UserSecurity:
        """2FA, phone, lockout and live sessions of `user`. Callers MUST pass a user
        fetched scoped (`get`): the reads below trust its id (and name the tenant, with
        RLS as the second wall)."""
        profile = await profile_of(session, subject.tenant_id, user.id)
        return UserSecurity(
            two_factor=await twofa.status_of(session, user.id),
            phone_e164=profile.phone_e164 if profile else None,
            phone_verified_at=profile.phone_verified_at if profile else None,
            phone_country=profile.phone_country if profile else None,
            failed_logins=profile.failed_logins if profile else 0,
            locked_until=profile.locked_until if profile else None,
            password_changed_at=profile.password_changed_at if profile else None,
            sessions=await repository.active_sessions(session, user.id, datetime.now(UTC)),
        )

    async def update(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        user_id: UUID,
        changes: UserChanges,
        *,
        status_right: str | None = None,
    ) -> UserWithRoles:
        """Fetch scoped (404), then refuse a status change without its permission (403;
        `status_right`, else the target's in `STATUS_RIGHTS`), a forbidden transition
        (409 `INVALID_TRANSITION`), suspending or deactivating oneself or the last active
        super admin (409 `CONFLICT`), reinstating beyond the plan's seats (422). Every
        status change — PATCH, the lifecycle endpoints, the screens — goes through here,
        so sessions, hand-over, audit and notices are the same whichever way it came."""
        repo = UserRepository(session, subject.tenant_id)
        user = await repo.get_or_404(user_id)
        action = None
        if changes.status is not None and changes.status != user.status:
            right = status_right or STATUS_RIGHTS[changes.status]
            if not subject.can(right):
                raise PermissionDenied(details={"permission": right})
            action = TRANSITIONS.get((user.status, changes.status))
            if action is None:
                raise InvalidTransition("user", user.status.value, changes.status.value)
            await self._check_transition(session, subject, repo, user, changes.status)
            await self._hand_over(session, subject, repo, user, changes.status, changes.reassign_to)

        before = _profile(user)
        if changes.full_name is not None:
            user.full_name = changes.full_name
        if changes.locale is not None:
            user.locale = changes.locale
        after = _profile(user)
        work_before, work_after = await set_work_codes(
            session, subject.tenant_id, user.id, changes.work_codes
        )
        before |= work_before
        after |= work_after
        if after != before:
            await session.flush()
            await record(
                session, subject, "user.updated", EntityRef("user", user.id), before, after
            )
        if action is not None and changes.status is not None:
            old = user.status
            user.status = changes.status
            await session.flush()
            if changes.status != ACTIVE:
                await revoke_sessions(session, subject.tenant_id, user.id, REVOKED_REASON)
            event = await record(
                session,
                subject,
                action,
                EntityRef("user", user.id),
                {"status": old.value},
                {"status": changes.status.value},
            )
            await notices.status_changed(session, subject.tenant_id, user, event.id)
        return (await self._with_roles(session, subject, [user]))[0]

    async def deactivate(
        self, session: AsyncSession, subject: AuthSubject, user_id: UUID
    ) -> UserWithRoles:
        """`DELETE` (`user.delete`): deactivate (rows are kept); already deactivated
        changes nothing."""
        changes = UserChanges(status=DEACTIVATED)
        return await self.update(session, subject, user_id, changes, status_right="user.delete")

    async def transition(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        user_id: UUID,
        target: UserStatus,
        reassign_to: UUID | None = None,
    ) -> UserWithRoles:
        """`POST …/suspend|deactivate|reinstate`: like a PATCH of `status`, except that
        asking for the status the user already has is an invalid transition (409)."""
        user = await UserRepository(session, subject.tenant_id).get_or_404(user_id)
        if user.status == target:
            raise InvalidTransition("user", user.status.value, target.value)
        changes = UserChanges(status=target, reassign_to=reassign_to)
        return await self.update(session, subject, user_id, changes)

    async def force_logout(self, session: AsyncSession, subject: AuthSubject, user_id: UUID) -> int:
        """End every session of the user now; audited `user.force_logout`. The number
        of sessions ended."""
        user = await UserRepository(session, subject.tenant_id).get_or_404(user_id)
        ended = await revoke_sessions(session, subject.tenant_id, user.id, FORCED_REASON)
        await record(
            session, subject, "user.force_logout", EntityRef("user", user.id),
            after={"sessions_ended": ended},
        )  # fmt: skip
        return ended

    async def reset_password(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        user_id: UUID,
        settings: Settings,
        notifier: Notifier,
    ) -> None:
        """E-mail the user a password-reset link (the forgotten-password flow); a
        deactivated user gets none (409 `INVALID_TRANSITION`)."""
        user = await UserRepository(session, subject.tenant_id).get_or_404(user_id)
        if user.status == DEACTIVATED:
            raise InvalidTransition("user", user.status.value, "password_reset")
        await send_password_reset(session, settings, notifier, user, subject)

    async def _hand_over(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        repo: UserRepository,
        user: User,
        target: UserStatus,
        reassign_to: UUID | None,
    ) -> None:
        """Move the user's records to `reassign_to` (suspend, deactivate); deactivating
        a user who owns records without one is refused (409 with `details.owned`)."""
        if target == ACTIVE:
            return
        if reassign_to is None:
            if target == DEACTIVATED:
                owned = await owned_records(session, subject.tenant_id, user.id)
                if owned:
                    raise Conflict(
                        N_("This user owns records: choose who takes them over."),
                        details={"owned": owned},
                    )
            return
        heir = await repo.get(reassign_to)
        if heir is None or heir.id == user.id or heir.status != ACTIVE:
            raise ValidationFailed(
                {"reassign_to": N_("Choose another active user of this organisation.")}
            )
        moved = await reassign_all(session, subject, user.id, heir.id)
        await record(
            session, subject, "user.records.reassigned", EntityRef("user", user.id),
            after={"to": str(heir.id), "moved": moved},
        )  # fmt: skip

    async def _check_transition(
        self,
        session: AsyncSession,
        subject: AuthSubject,
        repo: UserRepository,
        user: User,
        target: UserStatus,
    ) -> None:
        if target != ACTIVE:
            if user.id == subject.user_id:
                raise Conflict(N_("You cannot suspend or deactivate your own account."))
            if await access_service.is_last_super_admin(session, subject.tenant_id, user):
                raise Conflict(N_("The organisation must keep at least one active super admin."))
        elif user.status == DEACTIVATED:
            takes = await repository_seats.user_takes_seat(session, subject.tenant_id, user.id)
            await seats.require_seat(session, subject.tenant_id, 1 if takes else 0)

    async def _with_roles(
        self, session: AsyncSession, subject: AuthSubject, users: list[User]
    ) -> list[UserWithRoles]:
        roles = await access_service.roles_of_users(
            session, subject.tenant_id, [u.id for u in users]
        )
        return [UserWithRoles(user=u, roles=roles[u.id]) for u in users]


user_admin = UserAdminService()

STATUS_LABELS = {
    UserStatus.ACTIVE: N_("Active"),
    UserStatus.SUSPENDED: N_("Suspended"),
    UserStatus.DEACTIVATED: N_("Deactivated"),
}
"""How a user's status reads on screens (msgids; translated where shown)."""
