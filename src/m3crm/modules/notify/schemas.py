"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from m3crm.kernel.inputs import StorableModel
from m3crm.modules.notify.models import (
    Channel,
    ConsentAction,
    InboxCategory,
    MessageStatus,
    MessageType,
    Severity,
    SubjectType,
    TemplateStatus,
)

FAMILY_PATTERN = r"^[a-z0-9_]+(\.[a-z0-9_]+)+$"
# 120 leaves room for the channel a template code adds (`otp.whatsapp.verify_phone`).
Code = Field(min_length=1, max_length=120, pattern=FAMILY_PATTERN)
LOCALE_PATTERN = r"^[a-z]{2}(-[A-Za-z]{2})?$"
Locale = Field(min_length=2, max_length=8, pattern=LOCALE_PATTERN)
OptionalLocale = Field(default=None, min_length=2, max_length=8, pattern=LOCALE_PATTERN)


class MirrorIn(StorableModel):
    email: bool = True
    inbox: bool = True


class DispatchIn(StorableModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    to: str | None = Field(default=None, max_length=320)
    template_code: str | None = Field(default=None, max_length=150, pattern=FAMILY_PATTERN)
    family: str | None = Field(default=None, max_length=120, pattern=FAMILY_PATTERN)
    payload: dict[str, Any] = Field(default_factory=dict)
    type: MessageType = MessageType.TRANSACTIONAL
    mirror: bool | MirrorIn | None = None
    schedule_at: datetime | None = None
    correlation_key: str | None = Field(default=None, min_length=1, max_length=150)
    recipient_user_id: UUID | None = None
    locale: str | None = OptionalLocale
    link_url: str | None = Field(default=None, max_length=500)
    category: InboxCategory = InboxCategory.SYSTEM
    severity: Severity = Severity.INFO


class QueuedMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel: Channel
    status: MessageStatus
    is_mirror: bool
    error_code: str | None


class DispatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dispatch_group_id: UUID | None
    messages: list[QueuedMessageOut]
    deduplicated: bool
    skipped: dict[str, str]


class MessageOut(BaseModel):
    """An outbox row without its rendered body (read the body through the provider)."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel: Channel
    type: MessageType
    status: MessageStatus
    to_address: str
    recipient_user_id: UUID | None
    template_code: str | None
    family: str | None
    locale: str
    dispatch_group_id: UUID | None
    is_mirror: bool
    provider: str | None
    provider_message_id: str | None
    error_code: str | None
    attempts: int
    scheduled_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    opened_at: datetime | None
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class VariableSpec(StorableModel):
    model_config = ConfigDict(extra="forbid")

    required: bool = True
    description: str | None = Field(default=None, max_length=300)


class TemplateIn(StorableModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    family: str = Code
    locale: str = Locale
    name: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=500)
    body: str = Field(min_length=1, max_length=20_000)
    body_html: str | None = Field(default=None, max_length=100_000)
    variables: dict[str, VariableSpec] = Field(default_factory=dict, max_length=100)
    provider_template_id: str | None = Field(default=None, max_length=100)


class TemplatePatch(StorableModel):
    """Fields left out stay as they are; `null` clears only the nullable columns
    (`subject`, `body_html`, `provider_template_id`). `name`, `body` and `variables`
    refuse `null` with a field error, never reaching the NOT NULL columns."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
    body_html: str | None = Field(default=None, max_length=100_000)
    variables: dict[str, VariableSpec] | None = Field(default=None, max_length=100)
    provider_template_id: str | None = Field(default=None, max_length=100)

    @field_validator("name", "body", "variables")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the body carries (defaults are not validated).
        if value is None:
            raise ValueError("may not be null")
        return value


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: UUID | None
    channel: Channel
    code: str
    family: str
    name: str
    locale: str
    subject: str | None
    body: str
    body_html: str | None
    variables: dict[str, Any]
    version: int
    status: TemplateStatus
    is_approved: bool
    provider_template_id: str | None
    updated_at: datetime


class PreviewIn(BaseModel):
    """Rendered, never stored: any JSON payload is fine."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] = Field(default_factory=dict)


class PreviewOut(BaseModel):
    subject: str | None
    text: str
    html: str | None
    missing_variables: list[str]


class ConsentIn(StorableModel):
    model_config = ConfigDict(extra="forbid")

    subject_type: SubjectType
    subject_id: UUID
    channel: Channel
    consent_source: str = Field(min_length=1, max_length=100)
    consent_text: str | None = Field(default=None, max_length=2000)
    e164: str | None = Field(default=None, max_length=32)


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    subject_type: SubjectType
    subject_id: UUID
    channel: Channel
    action: ConsentAction
    consent_source: str
    consent_text: str | None
    consent_at: datetime


class InboxEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    recipient_user_id: UUID
    title: str
    body: str
    severity: Severity
    category: InboxCategory
    link_url: str | None
    meta: dict[str, Any]
    is_read: bool
    read_at: datetime | None
    dispatch_group_id: UUID | None
    created_at: datetime


class InboxPage(BaseModel):
    items: list[InboxEntryOut]
    next_cursor: str | None
    unread: int


class MarkReadIn(StorableModel):
    ids: list[UUID] | None = Field(default=None, max_length=500)
    category: InboxCategory | None = None


class ChannelCopyOut(BaseModel):
    """One channel a notification went out on (its dispatch group), for the detail view."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel: Channel
    status: MessageStatus
    is_mirror: bool
    error_code: str | None
    created_at: datetime


class InboxEntryDetailOut(BaseModel):
    entry: InboxEntryOut
    channels: list[ChannelCopyOut]


class MarkedOut(BaseModel):
    updated: int


class PreferencesIn(StorableModel):
    model_config = ConfigDict(extra="forbid")

    email_on_sms: bool | None = None
    email_on_whatsapp: bool | None = None
    inbox_on_all: bool | None = None
    marketing_email_opt_in: bool | None = None
    marketing_sms_opt_in: bool | None = None
    marketing_whatsapp_opt_in: bool | None = None
    locale: str | None = OptionalLocale


class PreferencesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email_on_sms: bool
    email_on_whatsapp: bool
    inbox_on_all: bool
    marketing_email_opt_in: bool
    marketing_sms_opt_in: bool
    marketing_whatsapp_opt_in: bool
    locale: str | None


class CredentialsIn(StorableModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["brevo", "infobip"]
    api_key: str = Field(min_length=1, max_length=500, pattern=r"^[\x21-\x7e]+$")
    base_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://[\x21-\x7e]+$")


class WebhookAck(BaseModel):
    status: Literal["ok"] = "ok"
    applied: int
    duplicates: int
    unmatched: int


class PoliciesOut(BaseModel):
    """The workspace's notification policies (Section 14 §3)."""

    mirroring: bool = Field(
        description="SMS and WhatsApp messages to a person also go to their e-mail and inbox."
    )
    allow_transactional_over_stop: bool = Field(
        description="A number that sent STOP still receives transactional SMS (codes, alerts)."
    )


class PoliciesIn(BaseModel):
    """Only the fields sent change; `null` is refused (a policy is on or off)."""

    model_config = ConfigDict(extra="forbid")

    mirroring: StrictBool = False
    allow_transactional_over_stop: StrictBool = False


class PhonePolicyOut(BaseModel):
    """The workspace's "Require verified phone for SMS/WA comms" policy (Section 1 §8)."""

    require_verified_phone: bool = Field(
        description="SMS and WhatsApp messages to a workspace user go only to their verified"
        " phone; others are refused with 409 PHONE_NOT_VERIFIED."
    )


class PhonePolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_verified_phone: StrictBool
