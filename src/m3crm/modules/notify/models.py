"""Tables of spec Section 2 §3 (and the suppression list of Section 14 §3).

Tenant tables follow the tenancy canon. Two tables also hold global rows
(`tenant_id IS NULL`, the coded-dictionary pattern): `message_templates` (the product's
seeded families, which a tenant may override) and `provider_credentials` (global
credentials, which a tenant may override). `integration_webhook_logs` keeps raw webhook
receipts, including those no tenant could be found for.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from m3crm.kernel.db.base import Base, TenantModel, TimestampMixin, string_enum, tenant_fk
from m3crm.kernel.ids import new_id


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    INBOX = "inbox"
    PUSH = "push"


class MessageType(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    EXPIRED = "expired"


class TemplateStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


class Severity(enum.StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class InboxCategory(enum.StrEnum):
    """The notification center's tabs (spec §15/§16)."""

    APPROVALS = "approvals"
    TASKS = "tasks"
    SYSTEM = "system"
    MARKETING = "marketing"


class ConsentAction(enum.StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class SubjectType(enum.StrEnum):
    USER = "user"
    CONTACT = "contact"


class SuppressionReason(enum.StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    STOP = "stop"


class DispatchGroup(TenantModel):
    """The messages one dispatch created (a channel and its mirrors)."""

    __tablename__ = "dispatch_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "correlation_key"),)

    correlation_key: Mapped[str] = mapped_column(String(200))
    root_message_id: Mapped[UUID | None]


class OutboxMessage(TenantModel):
    """One message on one channel. The outbox is the queue: the delivery pump claims
    due `queued` rows (`scheduled_at <= now()` and no live claim).

    Invariants: `idempotency_key` is unique per tenant, so a repeated dispatch finds the
    existing row instead of sending again; `attempts` counts provider calls (≤ 3);
    `content` holds the rendered subject/body, so a retry sends exactly what was queued.
    """

    __tablename__ = "messages_outbox"
    __table_args__ = (
        tenant_fk("dispatch_group_id", "dispatch_groups"),
        tenant_fk("recipient_user_id", "users"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index(None, "tenant_id", "status", "channel", "id"),
        Index(
            "ix_messages_outbox_due",
            "scheduled_at",
            postgresql_where=text("status = 'queued'"),
        ),
        Index(None, "provider", "provider_message_id"),
    )

    channel: Mapped[Channel] = mapped_column(string_enum(Channel, "channel"))
    type: Mapped[MessageType] = mapped_column(string_enum(MessageType, "type"))
    status: Mapped[MessageStatus] = mapped_column(
        string_enum(MessageStatus, "status"), default=MessageStatus.QUEUED
    )
    to_address: Mapped[str] = mapped_column(String(320))
    recipient_user_id: Mapped[UUID | None]
    template_code: Mapped[str | None] = mapped_column(String(150))
    family: Mapped[str | None] = mapped_column(String(150))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    dispatch_group_id: Mapped[UUID | None]
    is_mirror: Mapped[bool] = mapped_column(default=False)
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(60))
    error_detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_by_user_id: Mapped[UUID | None]
    scheduled_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]


class MessageTemplate(TimestampMixin, Base):
    """A versioned template of one channel and locale in a family.

    Global rows (`tenant_id` NULL) are the product's seeds; a tenant row with the same
    `code` and `locale` overrides them. Only `approved` rows are used for sending, and
    at most one version per `(tenant, code, locale)` is approved. `is_approved` is the
    provider's approval (WhatsApp), distinct from our `status`.
    """

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "code", "locale", "version", postgresql_nulls_not_distinct=True
        ),
        Index(
            "uq_message_templates_approved",
            "tenant_id",
            "code",
            "locale",
            unique=True,
            postgresql_where=text("status = 'approved'"),
            postgresql_nulls_not_distinct=True,
        ),
        Index(None, "family", "channel", "locale"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[UUID | None] = mapped_column(ForeignKey("tenants.id"))
    channel: Mapped[Channel] = mapped_column(string_enum(Channel, "channel"))
    code: Mapped[str] = mapped_column(String(150))
    family: Mapped[str] = mapped_column(String(150))
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[TemplateStatus] = mapped_column(
        string_enum(TemplateStatus, "status"), default=TemplateStatus.DRAFT
    )
    is_approved: Mapped[bool] = mapped_column(default=False)
    provider_template_id: Mapped[str | None] = mapped_column(String(100))


class InboxEntry(TenantModel):
    """An in-app notification of one user; kept 180 days, then archived (DECISIONS §2.5)
    by `retention.archive_inbox`. Archived entries stay stored but no list shows them."""

    __tablename__ = "notifications_inbox"
    __table_args__ = (
        tenant_fk("recipient_user_id", "users"),
        tenant_fk("dispatch_group_id", "dispatch_groups"),
        Index(None, "tenant_id", "recipient_user_id", "is_read", "id"),
    )

    recipient_user_id: Mapped[UUID]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(
        string_enum(Severity, "severity"), default=Severity.INFO
    )
    category: Mapped[InboxCategory] = mapped_column(
        string_enum(InboxCategory, "category"), default=InboxCategory.SYSTEM
    )
    link_url: Mapped[str | None] = mapped_column(String(500))
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    is_read: Mapped[bool] = mapped_column(default=False)
    read_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    dispatch_group_id: Mapped[UUID | None]
    outbox_message_id: Mapped[UUID | None]


class NotificationPreference(TenantModel):
    """One user's channel choices; absent row = the defaults below."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        tenant_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "user_id"),
    )

    user_id: Mapped[UUID]
    email_on_sms: Mapped[bool] = mapped_column(default=True)
    email_on_whatsapp: Mapped[bool] = mapped_column(default=True)
    inbox_on_all: Mapped[bool] = mapped_column(default=True)
    marketing_email_opt_in: Mapped[bool] = mapped_column(default=False)
    marketing_sms_opt_in: Mapped[bool] = mapped_column(default=False)
    marketing_whatsapp_opt_in: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(8))


class ChannelConsent(TenantModel):
    """An opt-in or opt-out event; a subject's consent on a channel is its latest row.

    Rows are never updated, so the history of consent stays provable.
    """

    __tablename__ = "channel_opt_ins"
    __table_args__ = (
        Index(
            "ix_channel_opt_ins_subject",
            "tenant_id",
            "subject_type",
            "subject_id",
            "channel",
            "consent_at",
        ),
    )

    subject_type: Mapped[SubjectType] = mapped_column(string_enum(SubjectType, "subject_type"))
    subject_id: Mapped[UUID]
    channel: Mapped[Channel] = mapped_column(string_enum(Channel, "channel"))
    action: Mapped[ConsentAction] = mapped_column(string_enum(ConsentAction, "action"))
    consent_source: Mapped[str] = mapped_column(String(100))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(server_default=func.now())
    recorded_by_user_id: Mapped[UUID | None]


class SmsStop(TenantModel):
    """A number that answered STOP (or was stopped by hand): no marketing SMS to it."""

    __tablename__ = "sms_stop_list"
    __table_args__ = (UniqueConstraint("tenant_id", "e164_value"),)

    e164_value: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(40), default="keyword")
    opted_out_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Suppression(TenantModel):
    """An address that bounced, complained or was suppressed by hand (Section 14 §3)."""

    __tablename__ = "suppression_list"
    __table_args__ = (UniqueConstraint("tenant_id", "channel", "normalized_value"),)

    channel: Mapped[Channel] = mapped_column(string_enum(Channel, "channel"))
    normalized_value: Mapped[str] = mapped_column(String(320))
    reason: Mapped[SuppressionReason] = mapped_column(string_enum(SuppressionReason, "reason"))
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProviderCredential(TimestampMixin, Base):
    """A provider's secrets, Fernet-encrypted with the key from settings.

    `tenant_id` NULL is the global credential; a tenant row overrides it.
    """

    __tablename__ = "provider_credentials"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[UUID | None] = mapped_column(ForeignKey("tenants.id"))
    provider: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class WebhookLog(Base):
    """A raw provider webhook event, stored before anything else is done with it.

    Unique on `(provider, event_id)`: a re-delivered event is recognised and ignored.
    `tenant_id` is NULL when no message of ours matched; such rows are readable only by
    the operator (RLS shows tenant traffic its own rows, and inserts only).
    """

    __tablename__ = "integration_webhook_logs"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        Index(None, "tenant_id", "received_at"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[UUID | None] = mapped_column(ForeignKey("tenants.id"))
    provider: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(200))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(40))
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    payload: Mapped[Any] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


class NotificationPolicy(TenantModel):
    """A tenant-wide notification setting (Section 14 §3), e.g. `mirroring`,
    `allow_transactional_over_stop`; an absent key has the product default."""

    __tablename__ = "notification_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSONB)
