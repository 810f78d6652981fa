"""`dispatch`: the one way any module sends a message (spec §2.5 to §2.9, §2.11).

A dispatch validates everything before it writes: recipient address (E.164, e-mail),
template and required variables, plan features, consent, per-minute throttle and the
monthly cap. Then, in the caller's transaction, it writes the outbox rows — the
requested channel and, for SMS/WhatsApp, the mirrored e-mail and inbox entry — in one
dispatch group, and wakes the delivery pump when the transaction commits.

Invariants:
- Idempotent: every row has a deterministic `idempotency_key` (from `correlation_key`,
  else from template, recipient, payload and schedule minute); a repeated dispatch
  returns the first one's messages and writes, sends and counts nothing.
- Usage counters (`sms.sent`, `whatsapp.sent`) grow by one per message actually queued,
  in the same transaction as the row.
- A mirror never blocks its primary: a mirrored e-mail without a template is recorded
  `failed` with `TEMPLATE_MISSING`; an inbox without a template is auto-generated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.entitlements import (
    Entitlements,
    load_user_entitlements,
    record_monthly_usage,
    require_monthly_cap,
)
from m3crm.kernel.errors import DomainError, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId, new_id
from m3crm.kernel.tenancy.models import Tenant, User
from m3crm.kernel.tenancy.repository import user_by_id
from m3crm.modules.notify import consent, preferences, repository, templates
from m3crm.modules.notify.addresses import normalize_address
from m3crm.modules.notify.inbox import inbox_content, write_entry
from m3crm.modules.notify.metrics import DISPATCHED
from m3crm.modules.notify.models import (
    Channel,
    DispatchGroup,
    InboxCategory,
    MessageStatus,
    MessageType,
    NotificationPreference,
    OutboxMessage,
    Severity,
    SubjectType,
)
from m3crm.modules.notify.outbox import wake_pump
from m3crm.modules.notify.phone_policy import require_verified_phone
from m3crm.modules.notify.policies import Policies, load_policies
from m3crm.modules.notify.rendering import (
    RenderedContent,
    inbox_fallback,
    missing_variables,
    render,
    require_variables,
)
from m3crm.modules.notify.throttle import Throttle

_FEATURES: dict[tuple[Channel, MessageType], tuple[str, ...]] = {
    (Channel.SMS, MessageType.TRANSACTIONAL): ("notifications.sms",),
    (Channel.SMS, MessageType.MARKETING): ("notifications.sms", "marketing.sms"),
    (Channel.WHATSAPP, MessageType.TRANSACTIONAL): ("notifications.whatsapp",),
    (Channel.WHATSAPP, MessageType.MARKETING): ("notifications.whatsapp", "marketing.whatsapp"),
}
_METERED = {Channel.SMS: "sms", Channel.WHATSAPP: "whatsapp"}


class TemplateMissing(DomainError):
    status_code = 422
    code = "TEMPLATE_MISSING"
    default_message = N_("No approved template exists for this message.")

    def __init__(self, family: str, channel: Channel) -> None:
        super().__init__(details={"family": family, "channel": channel.value})


@dataclass(frozen=True, slots=True)
class Mirror:
    email: bool = True
    inbox: bool = True


NO_MIRROR = Mirror(email=False, inbox=False)


@dataclass(frozen=True, slots=True)
class DispatchRequest:
    """What to send. Exactly one of `template_code` / `family` names the content;
    `recipient_user_id` lets the message be mirrored to that user's e-mail and inbox."""

    channel: Channel
    to: str | None = None
    template_code: str | None = None
    family: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    type: MessageType = MessageType.TRANSACTIONAL
    mirror: Mirror | None = None
    schedule_at: datetime | None = None
    correlation_key: str | None = None
    recipient_user_id: UUID | None = None
    locale: str | None = None
    link_url: str | None = None
    category: InboxCategory = InboxCategory.SYSTEM
    severity: Severity = Severity.INFO
    proves_phone: bool = False
    """The message carries a code that verifies `to` (phone verification): the
    verified-phone policy does not apply to it (`phone_policy`)."""


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: UUID
    channel: Channel
    status: MessageStatus
    is_mirror: bool
    error_code: str | None


@dataclass(frozen=True, slots=True)
class DispatchResult:
    dispatch_group_id: UUID | None
    messages: list[QueuedMessage]
    deduplicated: bool
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Plan:
    """Everything decided before writing."""

    tenant: Tenant
    channel: Channel
    family: str
    address: str
    user: User | None
    prefs: NotificationPreference | None
    locales: list[str]
    content: RenderedContent
    template_code: str
    scheduled_at: datetime
    base_key: str
    policies: Policies


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _payload_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_base(
    req: DispatchRequest, family: str, address: str, scheduled_at: datetime
) -> str:
    """§2.5.5: `correlation_key`, else (template, to, payload hash, schedule bucket).

    The bucket is the UTC minute the message is due: the requested `schedule_at`, or the
    dispatch time for an immediate send. So a repeat within the same minute is the same
    message, and the same reminder sent again later is a new one. Callers that must
    never send twice across a minute boundary pass a `correlation_key`.
    """
    if req.correlation_key:
        return "ck:" + req.correlation_key
    bucket = scheduled_at.astimezone(UTC).strftime("%Y%m%d%H%M")
    raw = f"{family}|{req.channel.value}|{address}|{_payload_hash(req.payload)}|{bucket}"
    return "dk:" + hashlib.sha256(raw.encode()).hexdigest()


class Notifier:
    """Dispatches messages; holds the process's throttle (see `notify.deps`)."""

    def __init__(self, throttle: Throttle, clock: Callable[[], datetime] = _utcnow) -> None:
        self.throttle = throttle
        self.clock = clock

    async def dispatch(
        self, session: AsyncSession, sender: Actor, req: DispatchRequest
    ) -> DispatchResult:
        if req.channel is Channel.PUSH:
            raise ValidationFailed({"channel": N_("Push notifications are not available yet.")})
        plan = await self._plan(session, sender, req)
        existing = await _existing(session, plan.base_key, req.channel)
        if existing is not None:
            return existing
        entitlements = await load_user_entitlements(session, sender.tenant_id, sender.user_id)
        for feature in _FEATURES.get((req.channel, req.type), ()):
            entitlements.require_feature(feature)
        await consent.check(
            session,
            channel=req.channel,
            address=plan.address,
            type=req.type,
            subject=_subject(plan.user),
            marketing_preference=_marketing_pref(plan.prefs, req.channel),
            allow_transactional_over_stop=plan.policies.allow_transactional_over_stop,
        )
        await self.throttle.hit(sender.tenant_id, req.channel, entitlements)
        return await self._write(session, sender, req, plan, entitlements)

    async def _plan(self, session: AsyncSession, sender: Actor, req: DispatchRequest) -> _Plan:
        family = await _family(session, req)
        tenant = await session.get_one(Tenant, sender.tenant_id)
        user = await _recipient(session, req.recipient_user_id)
        prefs = await preferences.effective(session, sender.tenant_id, user.id) if user else None
        address = _address(req, user)
        locales = templates.locale_chain(
            req.locale, prefs.locale if prefs else None, user.locale if user else None,
            tenant.default_locale,
        )  # fmt: skip
        template = await templates.resolve(
            session, channel=req.channel, family=family, locales=locales
        )
        if template is None and req.channel is not Channel.INBOX:
            raise TemplateMissing(family, req.channel)
        if template is not None:
            require_variables(template.variables, req.payload)
            content = render(
                subject=template.subject,
                body=template.body,
                body_html=template.body_html,
                payload=req.payload,
            )
        else:
            content = _payload_summary(family, req.payload)
        policies = await load_policies(session)
        if user is not None and _needs_verified_phone(req, policies):
            await require_verified_phone(session, user.id, address)
        scheduled_at = req.schedule_at or self.clock()
        return _Plan(
            tenant=tenant,
            channel=req.channel,
            family=family,
            address=address,
            user=user,
            prefs=prefs,
            locales=locales,
            content=content,
            template_code=template.code if template else family,
            scheduled_at=scheduled_at,
            base_key=idempotency_base(req, family, address, scheduled_at),
            policies=policies,
        )

    async def _write(
        self,
        session: AsyncSession,
        sender: Actor,
        req: DispatchRequest,
        plan: _Plan,
        entitlements: Entitlements,
    ) -> DispatchResult:
        mirror = _mirror_choice(req, plan)
        group_id: UUID | None = None
        if mirror != NO_MIRROR or req.correlation_key:
            group_id = await _create_group(session, sender.tenant_id, plan.base_key)
            if group_id is None:
                return await _existing_or_conflict(session, plan.base_key, req.channel)
        primary = _row(sender, req, plan, group_id, channel=req.channel, content=plan.content)
        primary.template_code = plan.template_code
        if not await _insert(session, primary):
            return await _existing_or_conflict(session, plan.base_key, req.channel)
        metered = _METERED.get(req.channel)
        if metered:
            used = await record_monthly_usage(session, sender.tenant_id, f"{metered}.sent")
            require_monthly_cap(used, f"{metered}.monthlyCap", entitlements)
        rows = [primary]
        skipped: dict[str, str] = {}
        if req.channel is Channel.INBOX:
            await _deliver_inbox_now(session, req, plan, primary)
        if mirror.email:
            email_row, reason = await _mirror_email(session, sender, req, plan, group_id)
            if email_row is not None:
                rows.append(email_row)
            if reason:
                skipped["email"] = reason
        elif req.channel in _METERED:
            skipped["email"] = "disabled"
        if mirror.inbox:
            inbox_row = await _mirror_inbox(session, sender, req, plan, group_id)
            rows.append(inbox_row)
        elif req.channel in _METERED:
            skipped["inbox"] = "disabled" if plan.user else "no_recipient_user"
        if group_id is not None:
            await _set_root(session, sender.tenant_id, group_id, primary.id)
            await _record_group_created(session, sender, group_id, primary, rows)
        for row in rows:
            DISPATCHED.labels(channel=row.channel.value, type=row.type.value).inc()
        await audit.record(
            session,
            sender,
            "message.queued",
            EntityRef("dispatch_group" if group_id else "message", group_id or primary.id),
            after={
                "family": plan.family,
                "type": req.type.value,
                "messages": [
                    {"id": str(r.id), "channel": r.channel.value, "status": r.status.value}
                    for r in rows
                ],
            },
        )
        await wake_pump(session)
        return DispatchResult(
            dispatch_group_id=group_id,
            messages=[_queued(r) for r in rows],
            deduplicated=False,
            skipped=skipped,
        )


async def _family(session: AsyncSession, req: DispatchRequest) -> str:
    if bool(req.template_code) == bool(req.family):
        raise ValidationFailed({"template_code": N_("Give either a template code or a family.")})
    if req.family:
        return req.family
    assert req.template_code is not None
    found = await templates.family_of_code(session, req.template_code)
    if found is None:
        raise ValidationFailed({"template_code": N_("No template has this code.")})
    family, channel = found
    if channel is not req.channel:
        raise ValidationFailed({"template_code": N_("This template is for another channel.")})
    return family


async def _recipient(session: AsyncSession, user_id: UUID | None) -> User | None:
    if user_id is None:
        return None
    user = await user_by_id(session, user_id)
    if user is None:
        raise ValidationFailed({"recipient_user_id": N_("No such user.")})
    return user


def _needs_verified_phone(req: DispatchRequest, policies: Policies) -> bool:
    """For a message to a user: does the verified-phone policy govern it?"""
    return (
        policies.require_verified_phone
        and req.channel in (Channel.SMS, Channel.WHATSAPP)
        and not req.proves_phone
    )


def _address(req: DispatchRequest, user: User | None) -> str:
    if req.channel is Channel.INBOX:
        if user is None:
            raise ValidationFailed({"recipient_user_id": N_("An inbox message needs a user.")})
        return str(user.id)
    to = req.to or (user.email if user and req.channel is Channel.EMAIL else None)
    if not to:
        raise ValidationFailed({"to": N_("A recipient address is required.")})
    return normalize_address(req.channel, to)


def _subject(user: User | None) -> consent.ConsentSubject | None:
    return consent.ConsentSubject(SubjectType.USER, user.id) if user else None


def _marketing_pref(prefs: NotificationPreference | None, channel: Channel) -> bool | None:
    if prefs is None:
        return None
    return {
        Channel.EMAIL: prefs.marketing_email_opt_in,
        Channel.SMS: prefs.marketing_sms_opt_in,
        Channel.WHATSAPP: prefs.marketing_whatsapp_opt_in,
    }.get(channel)


def _mirror_choice(req: DispatchRequest, plan: _Plan) -> Mirror:
    """§2.6: SMS/WhatsApp mirror to e-mail + inbox unless disabled by the request, the
    tenant policy or the recipient's preferences; other channels never mirror."""
    if req.channel not in _METERED or plan.user is None:
        return NO_MIRROR
    wanted = req.mirror or Mirror(email=plan.policies.mirroring, inbox=plan.policies.mirroring)
    prefs = plan.prefs
    email_pref = prefs is None or (
        prefs.email_on_sms if req.channel is Channel.SMS else prefs.email_on_whatsapp
    )
    return Mirror(
        email=wanted.email and email_pref,
        inbox=wanted.inbox and (prefs is None or prefs.inbox_on_all),
    )


def _payload_summary(family: str, payload: Mapping[str, Any]) -> RenderedContent:
    text_value = str(payload.get("message") or payload.get("body") or family)
    return inbox_fallback(text_value, str(payload.get("title") or family))


def _row(
    sender: Actor,
    req: DispatchRequest,
    plan: _Plan,
    group_id: UUID | None,
    *,
    channel: Channel,
    content: RenderedContent,
    address: str | None = None,
    is_mirror: bool = False,
) -> OutboxMessage:
    suffix = f"mirror-{channel.value}" if is_mirror else channel.value
    stored = content.as_json()
    if channel is Channel.INBOX:
        stored = inbox_content(
            stored, link_url=req.link_url, category=req.category, severity=req.severity
        )
    return OutboxMessage(
        tenant_id=sender.tenant_id,
        id=new_id(),
        channel=channel,
        type=req.type,
        status=MessageStatus.QUEUED,
        to_address=address or plan.address,
        recipient_user_id=plan.user.id if plan.user else None,
        template_code=plan.template_code,
        family=plan.family,
        locale=plan.locales[0],
        payload=dict(req.payload),
        content=stored,
        idempotency_key=f"{plan.base_key}:{suffix}",
        dispatch_group_id=group_id,
        is_mirror=is_mirror,
        attempts=0,
        created_by_user_id=sender.user_id,
        scheduled_at=plan.scheduled_at,
    )


_OUTBOX = cast(Table, OutboxMessage.__table__)
_INSERT_MESSAGE = (
    insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
    .returning(_OUTBOX.c.id)
)
"""Built once; the row's values travel as parameters (a Core insert of the table, so the
ORM's unit of work and per-call statement construction stay out of the hot path)."""


async def _insert(session: AsyncSession, row: OutboxMessage) -> bool:
    """Insert unless the idempotency key exists; False when it did. Columns left None
    are omitted, so their database defaults apply."""
    values = {
        c.key: value for c in _OUTBOX.columns if (value := getattr(row, c.key, None)) is not None
    }
    return (await session.execute(_INSERT_MESSAGE, values)).first() is not None


async def _create_group(session: AsyncSession, tenant_id: TenantId, key: str) -> UUID | None:
    stmt = (
        insert(DispatchGroup)
        .values(tenant_id=tenant_id, id=new_id(), correlation_key=key)
        .on_conflict_do_nothing(index_elements=["tenant_id", "correlation_key"])
        .returning(DispatchGroup.id)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return found


async def _record_group_created(
    session: AsyncSession,
    sender: Actor,
    group_id: UUID,
    root: OutboxMessage,
    rows: list[OutboxMessage],
) -> None:
    """`dispatch.group.created` (spec §2.12), once per new group, with its channels."""
    await audit.record(
        session,
        sender,
        "dispatch.group.created",
        EntityRef("dispatch_group", group_id),
        after={
            "root_message_id": str(root.id),
            "channels": [r.channel.value for r in rows],
        },
    )


async def _set_root(session: AsyncSession, tenant_id: TenantId, group_id: UUID, root: UUID) -> None:
    group = await session.get_one(DispatchGroup, (tenant_id, group_id))
    group.root_message_id = root


async def _mirror_email(
    session: AsyncSession,
    sender: Actor,
    req: DispatchRequest,
    plan: _Plan,
    group_id: UUID | None,
) -> tuple[OutboxMessage | None, str | None]:
    """The mirrored e-mail row, or why there is none. Consent refusals skip it; a
    missing template or variable records it failed (DECISIONS §2.4)."""
    assert plan.user is not None
    address = plan.user.email.lower()
    try:
        await consent.check(
            session,
            channel=Channel.EMAIL,
            address=address,
            type=req.type,
            subject=_subject(plan.user),
            marketing_preference=_marketing_pref(plan.prefs, Channel.EMAIL),
            allow_transactional_over_stop=plan.policies.allow_transactional_over_stop,
        )
    except consent.ConsentRequired as refused:
        return None, str(refused.details["reason"])
    template = await templates.resolve(
        session, channel=Channel.EMAIL, family=plan.family, locales=plan.locales
    )
    error: str | None = None
    content = RenderedContent(subject=None, text="", html=None)
    if template is None:
        error = "TEMPLATE_MISSING"
    elif missing_variables(template.variables, req.payload):
        error = "TEMPLATE_VARIABLES_MISSING"
    else:
        content = render(
            subject=template.subject,
            body=template.body,
            body_html=template.body_html,
            payload=req.payload,
        )
    row = _row(
        sender, req, plan, group_id,
        channel=Channel.EMAIL, content=content, address=address, is_mirror=True,
    )  # fmt: skip
    if template is not None:
        row.template_code = template.code
    if error:
        row.status = MessageStatus.FAILED
        row.error_code = error
        row.failed_at = datetime.now(UTC)
    await _insert(session, row)
    return row, error


async def _mirror_inbox(
    session: AsyncSession,
    sender: Actor,
    req: DispatchRequest,
    plan: _Plan,
    group_id: UUID | None,
) -> OutboxMessage:
    template = await templates.resolve(
        session, channel=Channel.INBOX, family=plan.family, locales=plan.locales
    )
    auto = template is None or bool(missing_variables(template.variables, req.payload))
    if template is not None and not auto:
        content = render(
            subject=template.subject, body=template.body, body_html=None, payload=req.payload
        )
    else:
        content = inbox_fallback(plan.content.text, plan.content.subject or plan.family)
    assert plan.user is not None
    row = _row(
        sender, req, plan, group_id,
        channel=Channel.INBOX, content=content, address=str(plan.user.id), is_mirror=True,
    )  # fmt: skip
    row.template_code = template.code if template else None
    row.content = {**row.content, "auto_generated": auto}
    await _insert(session, row)
    await _deliver_inbox_now(session, req, plan, row)
    return row


async def _deliver_inbox_now(
    session: AsyncSession, req: DispatchRequest, plan: _Plan, row: OutboxMessage
) -> None:
    """An inbox entry due now is written at once ("visible immediately", §2.13);
    a scheduled one is written by the delivery pump when it falls due."""
    if plan.scheduled_at > datetime.now(UTC):
        return
    await write_entry(session, row)


async def _existing(
    session: AsyncSession, base_key: str, channel: Channel
) -> DispatchResult | None:
    """The messages of an earlier identical dispatch, if there was one."""
    primary = await repository.message_by_key(session, f"{base_key}:{channel.value}")
    if primary is None:
        return None
    rows = [primary]
    if primary.dispatch_group_id is not None:
        rows = await repository.group_messages(session, primary.dispatch_group_id)
    return DispatchResult(
        dispatch_group_id=primary.dispatch_group_id,
        messages=[_queued(r) for r in rows],
        deduplicated=True,
    )


async def _existing_or_conflict(
    session: AsyncSession, base_key: str, channel: Channel
) -> DispatchResult:
    """A concurrent identical dispatch won the race: answer with its messages."""
    found = await _existing(session, base_key, channel)
    if found is None:
        raise ValidationFailed(
            {"correlation_key": N_("This correlation key was used for another message.")}
        )
    return found


def _queued(row: OutboxMessage) -> QueuedMessage:
    return QueuedMessage(
        id=row.id,
        channel=row.channel,
        status=row.status,
        is_mirror=row.is_mirror,
        error_code=row.error_code,
    )
