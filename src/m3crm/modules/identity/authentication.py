"""Sign-up and sign-in (password, workspace choice, second factor) (spec §1.4, §1.6);
the e-mail links (verification, password reset, welcome) are in `email_links`.

Sign-in runs before any tenant is known. The workspaces where an e-mail may sign in come
from a SECURITY DEFINER lookup (ids, slug, name only); the password is then checked in
each of them with RLS on. Failures are counted per account, only when the password
matched in none of the workspaces, and committed even though the request fails (their
own transactions); after `login_max_failures` in a row the account is locked for
`login_lockout_minutes`. Every refusal is the same 401, whether the e-mail
exists, the password is wrong or the account is locked, and the password hash is checked
even for unknown e-mails (constant work). Only after a password matched in several
workspaces does the answer list them (409 `AUTH_WORKSPACE_REQUIRED`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import EntityRef, SystemActor
from m3crm.kernel.crypto import secret_box
from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.entitlements import load_user_entitlements, record_monthly_usage
from m3crm.kernel.errors import DomainError, NotAuthenticated, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.models import Tenant, User, UserStatus
from m3crm.kernel.tenancy.service import create_tenant, create_user
from m3crm.modules.access.service import access
from m3crm.modules.identity import one_time, repository, sessions
from m3crm.modules.identity.email_links import send_verification
from m3crm.modules.identity.models import OneTimeToken, TokenPurpose, UserProfile
from m3crm.modules.identity.secrets import (
    check_password,
    code_matches,
    hash_code,
    hash_password,
    hash_token,
    new_code,
    token_tenant,
    verify_password,
)
from m3crm.modules.identity.sessions import Issued
from m3crm.modules.notify.addresses import normalize_email
from m3crm.modules.notify.catalog import otp_payload
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier
from m3crm.modules.notify.models import Channel
from m3crm.modules.plans.service import plan
from m3crm.settings import Settings

"""How long an administrator-created account's set-password link lasts (as an invitation)."""
CHALLENGE_MINUTES = 5
CHALLENGE_MAX_ATTEMPTS = 5
SIGNUP_PLAN = "DevFree"
SIGNUP_ROLE = "super_admin"


class InvalidCredentials(NotAuthenticated):
    default_message = N_("The e-mail or password is not correct.")


class WorkspaceRequired(DomainError):
    status_code = 409
    code = "AUTH_WORKSPACE_REQUIRED"
    default_message = N_("This e-mail belongs to several workspaces: choose one.")

    def __init__(self, workspaces: list[dict[str, str]]) -> None:
        super().__init__(details={"workspaces": workspaces})


class SecondFactorRequired(DomainError):
    status_code = 401
    code = "AUTH_2FA_REQUIRED"
    default_message = N_("Enter the code from your second factor.")

    def __init__(self, challenge: str, methods: list[str]) -> None:
        super().__init__(details={"challenge": challenge, "methods": methods})


class SecondFactorInvalid(DomainError):
    status_code = 401
    code = "AUTH_2FA_INVALID_CODE"
    default_message = N_("The code is not correct or has expired.")


@dataclass(frozen=True, slots=True)
class Client:
    ip: str | None
    user_agent: str | None


SecondFactorCheck = Callable[[AsyncSession, UUID, str, str], Awaitable[bool]]
"""`(session, user_id, method, code) -> ok`; provided by the 2FA part (`twofa`)."""

CodeSendThrottle = Callable[[UUID], Awaitable[None]]
"""Counts one sign-in code sent to the user (by id); raises `RateLimited` when over."""


async def sign_up(
    session: AsyncSession,
    settings: Settings,
    notifier: Notifier,
    *,
    workspace_name: str,
    workspace_slug: str,
    full_name: str,
    email: str,
    password: str,
    locale: str,
    client: Client,
) -> Issued:
    """A new tenant on the free plan, its default roles, its first user (super admin,
    e-mail not yet verified), the verification e-mail, and a signed-in session."""
    email = normalize_email(email, field="email")
    check_password(password, email)
    try:
        async with session.begin_nested():
            tenant = await create_tenant(
                session, name=workspace_name, slug=workspace_slug, default_locale=locale
            )
    except IntegrityError:
        raise ValidationFailed({"workspace_slug": N_("This workspace address is taken.")}) from None
    await bind_tenant(session, tenant.id, None)
    tenant_id = TenantId(tenant.id)
    await access.install_role_templates(session, tenant_id, tenant.default_locale)
    await plan.subscribe(session, tenant_id, SIGNUP_PLAN)
    plan_changed: dict[str, str | None] = {"plan": None}
    user = await create_user(
        session, tenant_id=tenant_id, email=email, full_name=full_name, locale=locale,
        is_verified=False, password_hash=hash_password(password),
    )  # fmt: skip
    await access.assign_role(session, tenant_id, user.id, SIGNUP_ROLE)
    await record_monthly_usage(session, tenant_id, "users.created")
    session.add(UserProfile(tenant_id=tenant_id, user_id=user.id, password_changed_at=None))
    actor = SystemActor(tenant_id, user.id)
    await audit.record(
        session, actor, "tenant.created", EntityRef("tenant", tenant.id),
        after={"name": workspace_name, "slug": workspace_slug, "plan": SIGNUP_PLAN},
    )  # fmt: skip
    await audit.record(
        session, actor, "tenant.plan.changed", EntityRef("tenant", tenant.id),
        before=plan_changed, after={"plan": SIGNUP_PLAN},
    )  # fmt: skip
    await audit.record(
        session, actor, "user.registered", EntityRef("user", user.id),
        after={"email": email, "role": SIGNUP_ROLE},
    )  # fmt: skip
    await send_verification(session, settings, notifier, user)
    return await sessions.sign_in(
        session, settings, user, ip=client.ip, user_agent=client.user_agent, method="signup"
    )


@dataclass(frozen=True, slots=True)
class _Match:
    tenant_id: UUID
    user_id: UUID
    slug: str
    name: str


class Authenticator:
    """Password sign-in and the second-factor step, over explicit transactions."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        second_factor_methods: Callable[[AsyncSession, UUID], Awaitable[list[str]]],
        check_second_factor: SecondFactorCheck,
        throttle_code_sends: CodeSendThrottle,
    ) -> None:
        self.database = database
        self.settings = settings
        self.methods = second_factor_methods
        self.check_second_factor = check_second_factor
        self.throttle_code_sends = throttle_code_sends
        self.box = secret_box(settings)

    async def login(
        self, email: str, password: str, workspace: str | None, client: Client
    ) -> Issued:
        try:
            email = normalize_email(email, field="email")
        except ValidationFailed:
            verify_password(None, password)
            raise InvalidCredentials() from None
        async with self.database.transaction() as session:
            candidates = await repository.login_candidates(session, email)
        if workspace:
            candidates = [c for c in candidates if c.slug == workspace]
        if not candidates:
            verify_password(None, password)
            raise InvalidCredentials()
        found = [_Match(c.tenant_id, c.user_id, c.slug, c.tenant_name) for c in candidates]
        matches = [m for m in found if await self._check_password(m, password)]
        if not matches:
            for m in found:
                await self._record_failure(m, client)
            raise InvalidCredentials()
        if len(matches) > 1:
            raise WorkspaceRequired([{"slug": m.slug, "name": m.name} for m in matches])
        return await self._after_password(matches[0], client)

    async def _check_password(self, match: _Match, password: str) -> bool:
        """Verify the password in the match's tenant (one Argon2 check whatever the
        outcome); a match on an unlocked account clears its failure count (committed).
        A mismatch records nothing here: `login` counts failures only once no workspace
        matched, so signing in to one workspace never locks the same e-mail in another."""
        now = datetime.now(UTC)
        async with self.database.transaction(match.tenant_id, match.user_id) as session:
            user = await repository.user(session, match.user_id)
            if user is None:
                verify_password(None, password)
                return False
            profile = await repository.ensure_profile(session, user)
            locked = profile.locked_until is not None and profile.locked_until > now
            if not verify_password(user.password_hash, password) or locked:
                return False
            profile.failed_logins = 0
            profile.locked_until = None
            return True

    async def _record_failure(self, match: _Match, client: Client) -> None:
        """Count one failed sign-in for the account (committed although the request
        fails); at `login_max_failures` in a row, lock it for `login_lockout_minutes`.
        Audited `auth.login.failed` (and `auth.login.locked` when it locks)."""
        now = datetime.now(UTC)
        async with self.database.transaction(match.tenant_id, match.user_id) as session:
            user = await repository.user(session, match.user_id)
            if user is None:
                return
            profile = await repository.ensure_profile(session, user)
            locked = profile.locked_until is not None and profile.locked_until > now
            actor = SystemActor(TenantId(match.tenant_id), match.user_id)
            if not locked:
                profile.failed_logins += 1
                if profile.failed_logins >= self.settings.login_max_failures:
                    profile.locked_until = now + timedelta(
                        minutes=self.settings.login_lockout_minutes
                    )
                    profile.failed_logins = 0
                    await audit.record(
                        session, actor, "auth.login.locked", EntityRef("user", match.user_id),
                        after={"until": profile.locked_until.isoformat(), "ip": client.ip},
                    )  # fmt: skip
            await audit.record(
                session, actor, "auth.login.failed", EntityRef("user", match.user_id),
                after={"locked": locked, "ip": client.ip},
            )  # fmt: skip

    async def _after_password(self, match: _Match, client: Client) -> Issued:
        async with self.database.transaction(match.tenant_id, match.user_id) as session:
            user = await repository.user(session, match.user_id)
            assert user is not None
            methods = await self.methods(session, user.id)
            if methods:
                token = await one_time.issue(
                    session, user, TokenPurpose.LOGIN_CHALLENGE,
                    timedelta(minutes=CHALLENGE_MINUTES), {"methods": methods},
                )  # fmt: skip
                challenge: tuple[str, list[str]] | None = (token, methods)
            else:
                challenge = None
                issued = await self._sign_in(session, user, client, "password")
        if challenge is not None:
            raise SecondFactorRequired(*challenge)
        return issued

    async def _sign_in(
        self, session: AsyncSession, user: User, client: Client, method: str
    ) -> Issued:
        return await sessions.sign_in(
            session, self.settings, user, ip=client.ip, user_agent=client.user_agent,
            method=method,
        )  # fmt: skip

    async def complete_second_factor(
        self, challenge: str, method: str, code: str, client: Client
    ) -> Issued:
        """Finish a sign-in with a TOTP, backup, SMS or WhatsApp code (5 tries)."""
        tenant_id = token_tenant(challenge)
        if tenant_id is None:
            raise SecondFactorInvalid()
        outcome: Issued | None = None
        async with self.database.transaction(tenant_id) as session:
            row = await repository.one_time_token(
                session, hash_token(challenge), TokenPurpose.LOGIN_CHALLENGE
            )
            now = datetime.now(UTC)
            if (
                row is None
                or row.used_at is not None
                or row.expires_at <= now
                or row.attempts >= CHALLENGE_MAX_ATTEMPTS
                or method not in row.data.get("methods", [])
            ):
                raise SecondFactorInvalid()
            row.attempts += 1
            user = await repository.user(session, row.user_id)
            if user is not None and user.status is UserStatus.ACTIVE:
                await bind_tenant(session, tenant_id, user.id)
                if await self._code_ok(session, row, user.id, method, code):
                    row.used_at = now
                    outcome = await self._sign_in(session, user, client, method)
                else:
                    await audit.record(
                        session, SystemActor(TenantId(tenant_id), user.id),
                        "auth.2fa.failed", EntityRef("user", user.id), after={"method": method},
                    )  # fmt: skip
        if outcome is None:
            raise SecondFactorInvalid()
        return outcome

    async def _code_ok(
        self, session: AsyncSession, row: OneTimeToken, user_id: UUID, method: str, code: str
    ) -> bool:
        if method in (Channel.SMS.value, Channel.WHATSAPP.value):
            stored = str(row.data.get("code_hash") or "")
            sent_by = row.data.get("code_channel")
            matched = code_matches(self.box, row.id, code, stored)
            return bool(stored) and sent_by == method and matched
        return await self.check_second_factor(session, user_id, method, code)

    async def send_code(self, notifier: Notifier, challenge: str, channel: Channel) -> None:
        """Text a sign-in code to the user's verified phone (for `sms` / `whatsapp`).

        Refusals: a dead challenge, a channel it does not offer, or no verified phone
        (401 `AUTH_2FA_INVALID_CODE`); the channel's plan feature gone since the sign-in
        started (402 `PLAN_REQUIRED`); more sends to the user than `throttle_code_sends`
        allows (429, `login_code.account`: one a minute by default)."""
        tenant_id = token_tenant(challenge)
        if tenant_id is None:
            raise SecondFactorInvalid()
        async with self.database.transaction(tenant_id) as session:
            row = await repository.one_time_token(
                session, hash_token(challenge), TokenPurpose.LOGIN_CHALLENGE
            )
            if (
                row is None
                or row.used_at is not None
                or row.expires_at <= datetime.now(UTC)
                or channel.value not in row.data.get("methods", [])
            ):
                raise SecondFactorInvalid()
            await bind_tenant(session, tenant_id, row.user_id)
            profile = await repository.profile(session, row.user_id)
            if profile is None or profile.phone_e164 is None or profile.phone_verified_at is None:
                raise SecondFactorInvalid()
            features = await load_user_entitlements(session, TenantId(tenant_id), row.user_id)
            features.require_feature(f"twofa.{channel.value}")
            await self.throttle_code_sends(row.user_id)
            tenant = await session.get(Tenant, tenant_id)
            assert tenant is not None  # the challenge's tenant is bound above
            code = new_code()
            row.data = {
                **row.data,
                "code_hash": hash_code(self.box, row.id, code),
                "code_channel": channel.value,
            }
            await notifier.dispatch(
                session,
                SystemActor(TenantId(tenant_id), row.user_id),
                DispatchRequest(
                    channel=channel,
                    to=profile.phone_e164,
                    family="otp.verify_phone",
                    payload=otp_payload(
                        code, expires_min=CHALLENGE_MINUTES, tenant_name=tenant.name
                    ),
                    recipient_user_id=row.user_id,
                    correlation_key=f"login-code:{row.id}:{code}",
                ),
            )
