"""Template store: resolution for sending (§10), and the versioned CRUD behind the API.

Resolution picks the approved template of `(channel, family)` in the first locale of
the caller's preference list that has one, a tenant's own row before the global seed.
Editing follows the version states: a draft is edited in place; an approved or retired
version is never changed, a new draft version is made from it instead, and approving
a version retires the version approved before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel import audit
from m3crm.kernel.audit import Actor, EntityRef
from m3crm.kernel.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.notify import repository
from m3crm.modules.notify.catalog import code_for
from m3crm.modules.notify.models import Channel, MessageTemplate, TemplateStatus
from m3crm.modules.notify.rendering import undeclared_variables

FALLBACK_LOCALE = "en"


def locale_chain(*preferred: str | None) -> list[str]:
    """Distinct locales in order, always ending with English (user → tenant → en)."""
    chain: list[str] = []
    for locale in (*preferred, FALLBACK_LOCALE):
        if locale and locale not in chain:
            chain.append(locale)
    return chain


async def resolve(
    session: AsyncSession, *, channel: Channel, family: str, locales: Sequence[str]
) -> MessageTemplate | None:
    """The approved template to send, or `None` (the caller decides hard or soft fail)."""
    return await repository.approved_template(
        session, code=code_for(family, channel), locales=locales
    )


async def family_of_code(session: AsyncSession, code: str) -> tuple[str, Channel] | None:
    return await repository.family_of_code(session, code)


async def list_templates(
    session: AsyncSession,
    *,
    channel: Channel | None,
    family: str | None,
    locale: str | None,
    status: TemplateStatus | None,
) -> list[MessageTemplate]:
    """Global and own templates (RLS shows both), newest version first per code."""
    return await repository.templates(
        session, channel=channel, family=family, locale=locale, status=status
    )


async def get_template(
    session: AsyncSession, tenant_id: UUID, template_id: UUID
) -> MessageTemplate:
    """A global template or the tenant's own; another tenant's is a 404 like a missing one."""
    template = await repository.visible_template(session, tenant_id, template_id)
    if template is None:
        raise NotFound()
    return template


def _check_subject(channel: Channel, subject: str | None) -> None:
    """E-mail and inbox templates always carry a subject: at create, edit and approve."""
    if channel in (Channel.EMAIL, Channel.INBOX) and not subject:
        raise ValidationFailed({"subject": N_("E-mail and inbox templates need a subject.")})


def _check_content(
    subject: str | None, body: str, body_html: str | None, variables: dict[str, Any]
) -> None:
    errors = undeclared_variables((subject, body, body_html), variables)
    if errors:
        raise ValidationFailed(errors)


def _snapshot(t: MessageTemplate) -> dict[str, Any]:
    return {
        "code": t.code,
        "locale": t.locale,
        "version": t.version,
        "status": t.status.value,
        "subject": t.subject,
        "body_length": len(t.body),
    }


async def create_template(
    session: AsyncSession,
    actor: Actor,
    *,
    channel: Channel,
    family: str,
    locale: str,
    name: str,
    subject: str | None,
    body: str,
    body_html: str | None,
    variables: dict[str, Any],
    provider_template_id: str | None,
) -> MessageTemplate:
    """A tenant draft, version 1 or one above the tenant's latest of that code+locale."""
    _check_subject(channel, subject)
    _check_content(subject, body, body_html, variables)
    code = code_for(family, channel)
    latest = await repository.latest_own_version(session, actor.tenant_id, code, locale)
    template = MessageTemplate(
        tenant_id=actor.tenant_id,
        channel=channel,
        code=code,
        family=family,
        name=name,
        locale=locale,
        subject=subject,
        body=body,
        body_html=body_html,
        variables=variables,
        version=(latest or 0) + 1,
        status=TemplateStatus.DRAFT,
        provider_template_id=provider_template_id,
    )
    session.add(template)
    await session.flush()
    await audit.record(
        session,
        actor,
        "template.created",
        EntityRef("message_template", template.id),
        after=_snapshot(template),
    )
    return template


async def update_draft(
    session: AsyncSession, actor: Actor, template: MessageTemplate, changes: dict[str, Any]
) -> MessageTemplate:
    """Edit a tenant draft in place. The edited result is checked (subject rule, declared
    variables) before anything is written, so a refused edit leaves the draft unchanged."""
    if template.tenant_id != actor.tenant_id:
        raise Conflict(N_("Product templates cannot be edited; create a version of your own."))
    if template.status is not TemplateStatus.DRAFT:
        raise InvalidTransition("message_template", template.status.value, "edited")
    merged = {
        key: changes.get(key, getattr(template, key))
        for key in ("subject", "body", "body_html", "variables")
    }
    _check_subject(template.channel, merged["subject"])
    _check_content(merged["subject"], merged["body"], merged["body_html"], merged["variables"])
    before = _snapshot(template)
    for key, value in changes.items():
        setattr(template, key, value)
    await session.flush()
    await audit.record(
        session,
        actor,
        "template.updated",
        EntityRef("message_template", template.id),
        before=before,
        after=_snapshot(template),
    )
    return template


async def new_version(
    session: AsyncSession, actor: Actor, source: MessageTemplate
) -> MessageTemplate:
    """A tenant draft copying `source` (a global seed or one of the tenant's versions)."""
    return await create_template(
        session,
        actor,
        channel=source.channel,
        family=source.family,
        locale=source.locale,
        name=source.name,
        subject=source.subject,
        body=source.body,
        body_html=source.body_html,
        variables=dict(source.variables),
        provider_template_id=source.provider_template_id,
    )


async def approve(
    session: AsyncSession, actor: Actor, template: MessageTemplate
) -> MessageTemplate:
    if template.tenant_id != actor.tenant_id or template.status is not TemplateStatus.DRAFT:
        raise InvalidTransition("message_template", template.status.value, "approved")
    _check_subject(template.channel, template.subject)
    await repository.retire_approved(session, actor.tenant_id, template.code, template.locale)
    template.status = TemplateStatus.APPROVED
    await session.flush()
    await audit.record(
        session,
        actor,
        "template.approved",
        EntityRef("message_template", template.id),
        after=_snapshot(template),
    )
    return template


async def retire(session: AsyncSession, actor: Actor, template: MessageTemplate) -> MessageTemplate:
    if template.tenant_id != actor.tenant_id or template.status is TemplateStatus.RETIRED:
        raise InvalidTransition("message_template", template.status.value, "retired")
    before = _snapshot(template)
    template.status = TemplateStatus.RETIRED
    await session.flush()
    await audit.record(
        session,
        actor,
        "template.retired",
        EntityRef("message_template", template.id),
        before=before,
        after=_snapshot(template),
    )
    return template
