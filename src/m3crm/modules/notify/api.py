"""JSON API of the notifications core (spec §2.7; §14.9 template states)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from m3crm.kernel.auth import DbSession, get_settings_dep
from m3crm.kernel.errors import (
    Conflict,
    InvalidTransition,
    MonthlyCapReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    RateLimited,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.i18n import N_
from m3crm.kernel.pagination import CURSOR_PATTERN, MAX_LIMIT, PageRequest
from m3crm.kernel.tenancy.repository import user_by_id
from m3crm.modules.notify import consent, inbox, outbox, policies, preferences, templates
from m3crm.modules.notify.addresses import normalize_e164
from m3crm.modules.notify.auth import (
    ConsentManager,
    Dispatcher,
    InboxReader,
    OutboxOperator,
    OutboxReader,
    PhonePolicyManager,
    PolicyManager,
    PreferenceEditor,
    TemplateApprover,
    TemplateManager,
    TenantInboxReader,
)
from m3crm.modules.notify.consent import ConsentRequired, ConsentSubject
from m3crm.modules.notify.credentials import CredentialCipher, set_tenant_credentials
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.dispatch import DispatchRequest, Mirror, TemplateMissing
from m3crm.modules.notify.models import (
    Channel,
    ConsentAction,
    InboxCategory,
    MessageStatus,
    SubjectType,
    TemplateStatus,
)
from m3crm.modules.notify.rendering import missing_variables, render
from m3crm.modules.notify.schemas import (
    FAMILY_PATTERN,
    LOCALE_PATTERN,
    ChannelCopyOut,
    ConsentIn,
    ConsentOut,
    CredentialsIn,
    DispatchIn,
    DispatchOut,
    InboxEntryDetailOut,
    InboxEntryOut,
    InboxPage,
    MarkedOut,
    MarkReadIn,
    MessageOut,
    MessagePage,
    PhonePolicyIn,
    PhonePolicyOut,
    PoliciesIn,
    PoliciesOut,
    PreferencesIn,
    PreferencesOut,
    PreviewIn,
    PreviewOut,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)
from m3crm.modules.notify.webhook_receivers import router as webhook_router
from m3crm.settings import Settings

router = APIRouter(
    tags=["notifications"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN)]


def _mirror(value: object) -> Mirror | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Mirror(email=value, inbox=value)
    return Mirror(email=value.email, inbox=value.inbox)  # type: ignore[attr-defined]


@router.post(
    "/v1/notify/dispatch",
    response_model=DispatchOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        PlanRequired, MonthlyCapReached, RateLimited, ConsentRequired, TemplateMissing
    ),
)
async def dispatch(
    body: DispatchIn, session: DbSession, subject: Dispatcher, notifier: NotifierDep
) -> DispatchOut:
    result = await notifier.dispatch(
        session,
        subject,
        DispatchRequest(
            channel=body.channel,
            to=body.to,
            template_code=body.template_code,
            family=body.family,
            payload=body.payload,
            type=body.type,
            mirror=_mirror(body.mirror),
            schedule_at=body.schedule_at,
            correlation_key=body.correlation_key,
            recipient_user_id=body.recipient_user_id,
            locale=body.locale,
            link_url=body.link_url,
            category=body.category,
            severity=body.severity,
        ),
    )
    return DispatchOut.model_validate(result)


@router.get("/v1/notify/messages", response_model=MessagePage)
async def list_messages(
    session: DbSession,
    subject: OutboxReader,
    status: MessageStatus | None = None,
    channel: Channel | None = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    dispatch_group_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagePage:
    page = await outbox.list_messages(
        session,
        PageRequest(limit=limit, cursor=cursor),
        status=status,
        channel=channel,
        since=from_,
        until=to,
        dispatch_group_id=dispatch_group_id,
    )
    return MessagePage(
        items=[MessageOut.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/v1/notify/messages/{message_id}",
    response_model=MessageOut,
    responses=error_responses(NotFound),
)
async def get_message(message_id: UUID, session: DbSession, subject: OutboxReader) -> MessageOut:
    return MessageOut.model_validate(await outbox.get_message(session, message_id))


@router.post(
    "/v1/notify/messages/{message_id}/requeue",
    response_model=MessageOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def requeue_message(
    message_id: UUID, session: DbSession, subject: OutboxOperator
) -> MessageOut:
    return MessageOut.model_validate(await outbox.requeue(session, subject, message_id))


@router.get("/v1/notify/templates", response_model=list[TemplateOut])
async def list_templates(
    session: DbSession,
    subject: TemplateManager,
    channel: Channel | None = None,
    family: Annotated[str | None, Query(max_length=120, pattern=FAMILY_PATTERN)] = None,
    locale: Annotated[str | None, Query(max_length=8, pattern=LOCALE_PATTERN)] = None,
    status: TemplateStatus | None = None,
) -> list[TemplateOut]:
    rows = await templates.list_templates(
        session, channel=channel, family=family, locale=locale, status=status
    )
    return [TemplateOut.model_validate(t) for t in rows]


@router.post(
    "/v1/notify/templates",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
)
async def create_template(
    body: TemplateIn, session: DbSession, subject: TemplateManager
) -> TemplateOut:
    template = await templates.create_template(
        session,
        subject,
        channel=body.channel,
        family=body.family,
        locale=body.locale,
        name=body.name,
        subject=body.subject,
        body=body.body,
        body_html=body.body_html,
        variables={name: spec.model_dump() for name, spec in body.variables.items()},
        provider_template_id=body.provider_template_id,
    )
    return TemplateOut.model_validate(template)


@router.get(
    "/v1/notify/templates/{template_id}",
    response_model=TemplateOut,
    responses=error_responses(NotFound),
)
async def get_template(
    template_id: UUID, session: DbSession, subject: TemplateManager
) -> TemplateOut:
    return TemplateOut.model_validate(
        await templates.get_template(session, subject.tenant_id, template_id)
    )


@router.patch(
    "/v1/notify/templates/{template_id}",
    response_model=TemplateOut,
    responses=error_responses(NotFound, InvalidTransition, Conflict),
)
async def update_template(
    template_id: UUID, body: TemplatePatch, session: DbSession, subject: TemplateManager
) -> TemplateOut:
    template = await templates.get_template(session, subject.tenant_id, template_id)
    changes = body.model_dump(exclude_unset=True)  # variables dump to plain dicts
    updated = await templates.update_draft(session, subject, template, changes)
    return TemplateOut.model_validate(updated)


@router.post(
    "/v1/notify/templates/{template_id}/versions",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NotFound),
)
async def new_template_version(
    template_id: UUID, session: DbSession, subject: TemplateManager
) -> TemplateOut:
    source = await templates.get_template(session, subject.tenant_id, template_id)
    return TemplateOut.model_validate(await templates.new_version(session, subject, source))


@router.post(
    "/v1/notify/templates/{template_id}/approve",
    response_model=TemplateOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def approve_template(
    template_id: UUID, session: DbSession, subject: TemplateApprover
) -> TemplateOut:
    template = await templates.get_template(session, subject.tenant_id, template_id)
    return TemplateOut.model_validate(await templates.approve(session, subject, template))


@router.post(
    "/v1/notify/templates/{template_id}/retire",
    response_model=TemplateOut,
    responses=error_responses(NotFound, InvalidTransition),
)
async def retire_template(
    template_id: UUID, session: DbSession, subject: TemplateManager
) -> TemplateOut:
    template = await templates.get_template(session, subject.tenant_id, template_id)
    return TemplateOut.model_validate(await templates.retire(session, subject, template))


@router.post(
    "/v1/notify/templates/{template_id}/preview",
    response_model=PreviewOut,
    responses=error_responses(NotFound),
)
async def preview_template(
    template_id: UUID, body: PreviewIn, session: DbSession, subject: TemplateManager
) -> PreviewOut:
    """Render with a payload; missing variables are listed, not refused."""
    t = await templates.get_template(session, subject.tenant_id, template_id)
    rendered = render(subject=t.subject, body=t.body, body_html=t.body_html, payload=body.payload)
    return PreviewOut(
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        missing_variables=missing_variables(t.variables, body.payload),
    )


async def _consent_subject(session: DbSession, body: ConsentIn) -> ConsentSubject:
    """A user. A contact's consent belongs to one of its addresses and is recorded on the
    contact (`/v1/contacts/{id}/opt-in`, `/opt-out`), which keeps the address's flags and
    the consent history in step; this endpoint refuses contacts and says where to go."""
    if body.subject_type is not SubjectType.USER:
        raise ValidationFailed(
            {
                "subject_type": N_(
                    "A contact's consent is recorded on the contact, for one of its"
                    " addresses: /v1/contacts/{id}/opt-in or /opt-out."
                )
            }
        )
    if await user_by_id(session, body.subject_id) is None:
        raise NotFound()
    return ConsentSubject(body.subject_type, body.subject_id)


async def _record_consent(
    session: DbSession, subject: ConsentManager, body: ConsentIn, action: ConsentAction
) -> ConsentOut:
    who = await _consent_subject(session, body)
    row = await consent.record_consent(
        session,
        subject,
        subject=who,
        channel=body.channel,
        action=action,
        source=body.consent_source,
        text=body.consent_text,
    )
    await preferences.reflect_consent(session, subject.tenant_id, who.id, body.channel, action)
    if body.channel is Channel.SMS and body.e164:
        number = normalize_e164(body.e164, field="e164")
        if action is ConsentAction.OPT_OUT:
            await consent.add_stop(session, subject.tenant_id, number, "opt_out")
    return ConsentOut.model_validate(row)


@router.post(
    "/v1/notify/opt-in",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NotFound),
)
async def opt_in(body: ConsentIn, session: DbSession, subject: ConsentManager) -> ConsentOut:
    return await _record_consent(session, subject, body, ConsentAction.OPT_IN)


@router.post(
    "/v1/notify/opt-out",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NotFound),
)
async def opt_out(body: ConsentIn, session: DbSession, subject: ConsentManager) -> ConsentOut:
    return await _record_consent(session, subject, body, ConsentAction.OPT_OUT)


@router.get("/v1/me/notifications", response_model=InboxPage)
async def my_notifications(
    session: DbSession,
    subject: InboxReader,
    is_read: bool | None = None,
    since: datetime | None = None,
    category: InboxCategory | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InboxPage:
    """Newest first; `category` is the notification center's tab."""
    page = await inbox.list_entries(
        session,
        subject.user_id,
        PageRequest(limit=limit, cursor=cursor),
        is_read=is_read,
        since=since,
        category=category,
    )
    return InboxPage(
        items=[InboxEntryOut.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
        unread=await inbox.unread_count(session, subject.user_id),
    )


@router.patch(
    "/v1/me/notifications/{entry_id}/read",
    response_model=InboxEntryOut,
    responses=error_responses(NotFound),
)
async def mark_read(entry_id: UUID, session: DbSession, subject: InboxReader) -> InboxEntryOut:
    return InboxEntryOut.model_validate(await inbox.mark_read(session, subject.user_id, entry_id))


@router.post("/v1/me/notifications/read", response_model=MarkedOut)
@router.patch("/v1/me/notifications/read-bulk", response_model=MarkedOut)
async def mark_many_read(body: MarkReadIn, session: DbSession, subject: InboxReader) -> MarkedOut:
    """Mark the listed entries read, or every unread entry (of `category` when given)
    when `ids` is omitted. `PATCH .../read-bulk` is the spec §16 name of the same call."""
    changed = await inbox.mark_all_read(session, subject.user_id, body.ids, body.category)
    return MarkedOut(updated=changed)


@router.get(
    "/v1/me/notifications/{entry_id}",
    response_model=InboxEntryDetailOut,
    responses=error_responses(NotFound),
)
async def notification_detail(
    entry_id: UUID, session: DbSession, subject: InboxReader
) -> InboxEntryDetailOut:
    """One entry and the channels it went out on (its dispatch group, spec §16 §7)."""
    entry, messages = await inbox.entry_with_channels(session, subject.user_id, entry_id)
    return InboxEntryDetailOut(
        entry=InboxEntryOut.model_validate(entry),
        channels=[ChannelCopyOut.model_validate(m) for m in messages],
    )


@router.get(
    "/v1/admin/notifications/{user_id}",
    response_model=InboxPage,
    responses=error_responses(NotFound),
)
async def user_notifications(
    user_id: UUID,
    session: DbSession,
    subject: TenantInboxReader,
    is_read: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InboxPage:
    if await user_by_id(session, user_id) is None:
        raise NotFound()
    page = await inbox.list_entries(
        session, user_id, PageRequest(limit=limit, cursor=cursor), is_read=is_read
    )
    return InboxPage(
        items=[InboxEntryOut.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
        unread=await inbox.unread_count(session, user_id),
    )


@router.get("/v1/me/notification-preferences", response_model=PreferencesOut)
async def my_preferences(session: DbSession, subject: InboxReader) -> PreferencesOut:
    prefs = await preferences.effective(session, subject.tenant_id, subject.user_id)
    return PreferencesOut.model_validate(prefs)


@router.put("/v1/me/notification-preferences", response_model=PreferencesOut)
async def update_my_preferences(
    body: PreferencesIn, session: DbSession, subject: PreferenceEditor
) -> PreferencesOut:
    prefs = await preferences.update(
        session, subject, subject.user_id, body.model_dump(exclude_unset=True)
    )
    return PreferencesOut.model_validate(prefs)


@router.put("/v1/notify/provider-credentials", status_code=status.HTTP_204_NO_CONTENT)
async def set_credentials(
    body: CredentialsIn,
    session: DbSession,
    subject: PolicyManager,
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> None:
    """The tenant's own credentials for a provider (encrypted; never read back)."""
    cipher = CredentialCipher(settings.notify_credentials_key.get_secret_value())
    secrets = body.model_dump(exclude_none=True, exclude={"provider"})
    await set_tenant_credentials(session, subject, cipher, body.provider, secrets)


@router.get("/v1/admin/notification-policies", response_model=PoliciesOut)
async def get_policies(session: DbSession, subject: PolicyManager) -> PoliciesOut:
    return PoliciesOut.model_validate(asdict(await policies.load_policies(session)))


@router.put(
    "/v1/admin/notification-policies",
    response_model=PoliciesOut,
    responses=error_responses(ValidationFailed),
)
async def update_policies(
    body: PoliciesIn, session: DbSession, subject: PolicyManager
) -> PoliciesOut:
    """Change the workspace's policies; only the fields sent change."""
    saved = await policies.save_policies(session, subject, body.model_dump(exclude_unset=True))
    return PoliciesOut.model_validate(asdict(saved))


@router.get("/v1/admin/phone-policy", response_model=PhonePolicyOut)
async def get_phone_policy(session: DbSession, subject: PhonePolicyManager) -> PhonePolicyOut:
    current = await policies.load_policies(session)
    return PhonePolicyOut(require_verified_phone=current.require_verified_phone)


@router.put(
    "/v1/admin/phone-policy",
    response_model=PhonePolicyOut,
    responses=error_responses(ValidationFailed),
)
async def update_phone_policy(
    body: PhonePolicyIn, session: DbSession, subject: PhonePolicyManager
) -> PhonePolicyOut:
    """Turn the verified-phone policy on or off (`twofa.manage.tenant`; audited as
    `notify.policies.updated`)."""
    saved = await policies.save_policies(
        session, subject, {"require_verified_phone": body.require_verified_phone}
    )
    return PhonePolicyOut(require_verified_phone=saved.require_verified_phone)


router.include_router(webhook_router)
