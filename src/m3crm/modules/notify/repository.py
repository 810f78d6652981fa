"""Every query of the notifications core (CONVENTIONS rule 1).

All of them run in a transaction bound to a tenant, so RLS scopes them; the ones on
`message_templates` and `provider_credentials` see the global rows as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId, new_id
from m3crm.kernel.pagination import Page, PageRequest, paginate_by_id
from m3crm.modules.notify.models import (
    Channel,
    ChannelConsent,
    ConsentAction,
    InboxCategory,
    InboxEntry,
    MessageStatus,
    MessageTemplate,
    NotificationPolicy,
    NotificationPreference,
    OutboxMessage,
    ProviderCredential,
    SmsStop,
    SubjectType,
    Suppression,
    TemplateStatus,
)

# --- templates ---------------------------------------------------------------


_LOCALES: BindParameter[Sequence[str]] = bindparam("locales", type_=ARRAY(String))
_APPROVED_TEMPLATE = (
    select(MessageTemplate)
    .where(
        MessageTemplate.code == bindparam("code", type_=String),
        MessageTemplate.status == TemplateStatus.APPROVED,
        MessageTemplate.locale == any_(_LOCALES),
    )
    .order_by(
        func.array_position(_LOCALES, MessageTemplate.locale), MessageTemplate.tenant_id.is_(None)
    )
    .limit(1)
)
"""Built once (every dispatch resolves a template); the locale list is one array
parameter, ranked by its position in that list."""


async def approved_template(
    session: AsyncSession, *, code: str, locales: Sequence[str]
) -> MessageTemplate | None:
    """The approved `code` in the first of `locales` that has one, own before global."""
    params = {"code": code, "locales": list(locales)}
    return (await session.execute(_APPROVED_TEMPLATE, params)).scalar_one_or_none()


async def family_of_code(session: AsyncSession, code: str) -> tuple[str, Channel] | None:
    row = (
        await session.execute(
            select(MessageTemplate.family, MessageTemplate.channel)
            .where(MessageTemplate.code == code)
            .limit(1)
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


async def templates(
    session: AsyncSession,
    *,
    channel: Channel | None,
    family: str | None,
    locale: str | None,
    status: TemplateStatus | None,
) -> list[MessageTemplate]:
    """Global and own templates, by family, channel, locale; own and newest first."""
    stmt = select(MessageTemplate).order_by(
        MessageTemplate.family,
        MessageTemplate.channel,
        MessageTemplate.locale,
        MessageTemplate.tenant_id.is_(None),
        MessageTemplate.version.desc(),
    )
    if channel is not None:
        stmt = stmt.where(MessageTemplate.channel == channel)
    if family is not None:
        stmt = stmt.where(MessageTemplate.family == family)
    if locale is not None:
        stmt = stmt.where(MessageTemplate.locale == locale)
    if status is not None:
        stmt = stmt.where(MessageTemplate.status == status)
    return list((await session.execute(stmt)).scalars())


async def latest_own_version(
    session: AsyncSession, tenant_id: UUID, code: str, locale: str
) -> int | None:
    stmt = select(func.max(MessageTemplate.version)).where(
        MessageTemplate.tenant_id == tenant_id,
        MessageTemplate.code == code,
        MessageTemplate.locale == locale,
    )
    value: int | None = (await session.execute(stmt)).scalar_one()
    return value


async def retire_approved(session: AsyncSession, tenant_id: UUID, code: str, locale: str) -> None:
    await session.execute(
        update(MessageTemplate)
        .where(
            MessageTemplate.tenant_id == tenant_id,
            MessageTemplate.code == code,
            MessageTemplate.locale == locale,
            MessageTemplate.status == TemplateStatus.APPROVED,
        )
        .values(status=TemplateStatus.RETIRED)
    )


# --- consent -----------------------------------------------------------------


async def latest_consent(
    session: AsyncSession, subject_type: SubjectType, subject_id: UUID, channel: Channel
) -> ConsentAction | None:
    stmt = (
        select(ChannelConsent.action)
        .where(
            ChannelConsent.subject_type == subject_type,
            ChannelConsent.subject_id == subject_id,
            ChannelConsent.channel == channel,
        )
        .order_by(ChannelConsent.consent_at.desc(), ChannelConsent.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def is_stopped(session: AsyncSession, e164: str) -> bool:
    stmt = select(SmsStop.id).where(SmsStop.e164_value == e164).limit(1)
    return (await session.execute(stmt)).first() is not None


async def stopped_among(session: AsyncSession, tenant_id: UUID, numbers: Sequence[str]) -> set[str]:
    if not numbers:
        return set()
    stmt = select(SmsStop.e164_value).where(
        SmsStop.tenant_id == tenant_id, SmsStop.e164_value.in_(numbers)
    )
    return set((await session.execute(stmt)).scalars())


async def is_suppressed(session: AsyncSession, channel: Channel, value: str) -> bool:
    stmt = (
        select(Suppression.id)
        .where(Suppression.channel == channel, Suppression.normalized_value == value)
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


_POLICY_VALUES = select(NotificationPolicy.key, NotificationPolicy.value)


async def policy_values(session: AsyncSession) -> dict[str, Any]:
    rows = (await session.execute(_POLICY_VALUES)).all()
    return {key: value for key, value in rows}


async def save_policy_value(
    session: AsyncSession, tenant_id: TenantId, key: str, value: Any
) -> None:
    """Insert or replace one tenant policy (unique on `(tenant_id, key)`)."""
    stmt = (
        insert(NotificationPolicy)
        .values(tenant_id=tenant_id, id=new_id(), key=key, value=value)
        .on_conflict_do_update(
            index_elements=["tenant_id", "key"], set_={"value": value, "updated_at": func.now()}
        )
    )
    await session.execute(stmt)


async def stored_preferences(session: AsyncSession, user_id: UUID) -> NotificationPreference | None:
    stmt = select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def credential_rows(session: AsyncSession, provider: str) -> list[ProviderCredential]:
    """The global row first, then the tenant's (so the tenant's values win a merge)."""
    stmt = (
        select(ProviderCredential)
        .where(ProviderCredential.provider == provider)
        .order_by(ProviderCredential.tenant_id.is_not(None))
    )
    return list((await session.execute(stmt)).scalars())


# --- outbox ------------------------------------------------------------------


async def message_by_id(session: AsyncSession, message_id: UUID) -> OutboxMessage | None:
    stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
    return (await session.execute(stmt)).scalar_one_or_none()


_MESSAGE_BY_KEY = select(OutboxMessage).where(
    OutboxMessage.idempotency_key == bindparam("key", type_=String)
)


async def message_by_key(session: AsyncSession, key: str) -> OutboxMessage | None:
    """The message of an idempotency key (probed on every dispatch; built once)."""
    return (await session.execute(_MESSAGE_BY_KEY, {"key": key})).scalar_one_or_none()


async def group_messages(
    session: AsyncSession, group_id: UUID, recipient_user_id: UUID | None = None
) -> list[OutboxMessage]:
    """The messages of one dispatch group (originals first); only those addressed to
    `recipient_user_id` when given."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.dispatch_group_id == group_id)
        .order_by(OutboxMessage.is_mirror, OutboxMessage.id)
    )
    if recipient_user_id is not None:
        stmt = stmt.where(OutboxMessage.recipient_user_id == recipient_user_id)
    return list((await session.execute(stmt)).scalars())


async def message_by_provider_id(
    session: AsyncSession, provider: str, provider_message_id: str
) -> OutboxMessage | None:
    """Locked for the update a delivery report makes."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.provider == provider,
            OutboxMessage.provider_message_id == provider_message_id,
        )
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def messages_page(
    session: AsyncSession,
    page: PageRequest,
    *,
    status: MessageStatus | None = None,
    channel: Channel | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    dispatch_group_id: UUID | None = None,
) -> Page[OutboxMessage]:
    stmt = select(OutboxMessage)
    if status is not None:
        stmt = stmt.where(OutboxMessage.status == status)
    if channel is not None:
        stmt = stmt.where(OutboxMessage.channel == channel)
    if since is not None:
        stmt = stmt.where(OutboxMessage.created_at >= since)
    if until is not None:
        stmt = stmt.where(OutboxMessage.created_at < until)
    if dispatch_group_id is not None:
        stmt = stmt.where(OutboxMessage.dispatch_group_id == dispatch_group_id)
    return await paginate_by_id(session, stmt, OutboxMessage.id, page)


async def claim_due(
    session: AsyncSession, tenant_id: TenantId, *, limit: int, lease: timedelta
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages: skip rows another pump holds, lease the rest,
    count the attempt. Oldest due first."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.tenant_id == tenant_id,
            OutboxMessage.status == MessageStatus.QUEUED,
            OutboxMessage.scheduled_at <= func.now(),
            or_(
                OutboxMessage.claimed_until.is_(None),
                OutboxMessage.claimed_until < func.now(),
            ),
        )
        .order_by(OutboxMessage.scheduled_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.id.in_(due))
        .values(claimed_until=func.now() + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).scalars())


# --- inbox -------------------------------------------------------------------


def _visible(user_id: UUID) -> ColumnElement[bool]:
    return and_(InboxEntry.recipient_user_id == user_id, InboxEntry.archived_at.is_(None))


async def inbox_page(
    session: AsyncSession,
    user_id: UUID,
    page: PageRequest,
    *,
    is_read: bool | None = None,
    since: datetime | None = None,
    category: InboxCategory | None = None,
) -> Page[InboxEntry]:
    """Newest first, seek-paginated by id (UUIDv7 ids are time-ordered)."""
    stmt = select(InboxEntry).where(_visible(user_id))
    if is_read is not None:
        stmt = stmt.where(InboxEntry.is_read.is_(is_read))
    if since is not None:
        stmt = stmt.where(InboxEntry.created_at >= since)
    if category is not None:
        stmt = stmt.where(InboxEntry.category == category)
    return await paginate_by_id(session, stmt, InboxEntry.id, page)


async def unread_count(session: AsyncSession, user_id: UUID) -> int:
    stmt = select(func.count()).where(_visible(user_id), InboxEntry.is_read.is_(False))
    return int((await session.execute(stmt)).scalar_one())


async def inbox_entry(session: AsyncSession, user_id: UUID, entry_id: UUID) -> InboxEntry | None:
    stmt = select(InboxEntry).where(InboxEntry.id == entry_id, _visible(user_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_unread_read(
    session: AsyncSession,
    user_id: UUID,
    ids: list[UUID] | None,
    now: datetime,
    category: InboxCategory | None = None,
) -> int:
    stmt = (
        update(InboxEntry)
        .where(_visible(user_id), InboxEntry.is_read.is_(False))
        .values(is_read=True, read_at=now)
    )
    if ids is not None:
        stmt = stmt.where(InboxEntry.id.in_(ids))
    if category is not None:
        stmt = stmt.where(InboxEntry.category == category)
    result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]
