"""An administrator creates a user directly (spec §12.2 "Create", §12.5
`POST /v1/admin/users`), the other way in beside an invitation (`invites`).

Invariants:
- The roles follow the invitation rules (`invites.check_roles`): at least one, none of
  `invites.INVITABLE_ROLES_EXCLUDED`, each a role of the tenant (422 on `roles`); and,
  as for giving roles (`access.require_grantable`), none may grant a permission the
  creator lacks (403).
- One account per e-mail in a tenant (409). A pending invitation of that e-mail is
  refused too (409): the administrator resends or revokes it (an invitation is someone
  else's decision in flight; creating over it would silently void its link).
- A seat is taken under the tenant's seat lock (`seats.require_seat`, the viewer rule of
  `seats.roles_take_seat`); a refusal is 422 `LIMIT_REACHED`, which the routers report
  (`seats.report_seat_limit`).
- The account has no password and its e-mail is unverified: the "choose your password"
  e-mail (`email_links.send_welcome`) carries a reset link; setting the password
  through it marks the e-mail verified, since it proves the mailbox.
- Everything is written in the caller's transaction and nothing before the last check,
  so a refusal leaves no row; audited `user.created` (no secret in the diff).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import EntityRef
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.entitlements import record_monthly_usage
from m3crm.kernel.errors import Conflict
from m3crm.kernel.i18n import N_
from m3crm.kernel.tenancy.models import Tenant
from m3crm.kernel.tenancy.service import create_user
from m3crm.modules.access.service import access
from m3crm.modules.identity import repository, seats
from m3crm.modules.identity.email_links import send_welcome
from m3crm.modules.identity.invites import check_roles
from m3crm.modules.identity.models import UserProfile
from m3crm.modules.identity.repository_users import UserRepository
from m3crm.modules.identity.users import UserWithRoles, user_admin
from m3crm.modules.identity.work_codes import check_work_codes
from m3crm.modules.notify.addresses import normalize_email
from m3crm.modules.notify.dispatch import Notifier
from m3crm.settings import Settings

ALREADY_USER = N_("This person is already a user here.")
ALREADY_INVITED = N_(
    "This person already has a pending invitation: send it again or revoke it first."
)


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    full_name: str
    roles: list[str]
    locale: str | None = None
    """`None`: the workspace's default language."""
    # Profile field → code of the coded dictionaries (`work_codes.WORK_CODE_FIELDS`).
    work_codes: Mapping[str, str | None] = field(default_factory=dict)


async def create(
    session: AsyncSession,
    settings: Settings,
    notifier: Notifier,
    subject: AuthSubject,
    new: NewUser,
) -> UserWithRoles:
    """Create the user with `new.roles`, e-mail them the set-password link. Refusals, in
    order: 422 bad e-mail / roles / work codes, 403 a role beyond the creator's rights,
    409 e-mail taken or invited, 422 `LIMIT_REACHED`."""
    email = normalize_email(new.email, field="email")
    roles = list(dict.fromkeys(new.roles))
    await check_roles(session, subject, roles)
    await check_work_codes(session, subject.tenant_id, new.work_codes)
    if await UserRepository(session, subject.tenant_id).by_email(email) is not None:
        raise Conflict(ALREADY_USER)
    if await repository.open_invite_for(session, subject.tenant_id, email) is not None:
        raise Conflict(ALREADY_INVITED)
    await seats.require_seat(session, subject.tenant_id, 1 if seats.roles_take_seat(roles) else 0)
    tenant = await session.get_one(Tenant, subject.tenant_id)
    locale = new.locale or tenant.default_locale
    try:
        async with session.begin_nested():  # a concurrent twin: 409, the session stays usable
            user = await create_user(
                session, tenant_id=subject.tenant_id, email=email, full_name=new.full_name,
                locale=locale, is_verified=False, password_hash=None,
            )  # fmt: skip
    except IntegrityError:  # users (tenant_id, email)
        raise Conflict(ALREADY_USER) from None
    codes = {f: c for f, c in new.work_codes.items() if c is not None}
    session.add(UserProfile(tenant_id=subject.tenant_id, user_id=user.id, failed_logins=0, **codes))
    for role in roles:
        await access.assign_role(session, subject.tenant_id, user.id, role)
    await record_monthly_usage(session, subject.tenant_id, "users.created")
    await audit.record(
        session, subject, "user.created", EntityRef("user", user.id),
        after={"email": email, "full_name": new.full_name, "locale": locale, "roles": roles,
               **codes},
    )  # fmt: skip
    await send_welcome(
        session, settings, notifier, user, workspace=tenant.name, inviter=subject.user.full_name
    )
    return await user_admin.get(session, subject, user.id)
