"""Shared makers for notifications tests (also used by the isolation matrix)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import new_id
from m3crm.modules.notify.models import (
    Channel,
    InboxEntry,
    MessageStatus,
    MessageTemplate,
    MessageType,
    OutboxMessage,
    TemplateStatus,
)
from tests.conftest import World
from tests.factories import SeededTenant


async def failed_message(session: AsyncSession, tenant: SeededTenant) -> OutboxMessage:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    message = OutboxMessage(
        tenant_id=tenant.id,
        id=new_id(),
        channel=Channel.EMAIL,
        type=MessageType.TRANSACTIONAL,
        status=MessageStatus.FAILED,
        to_address="someone@example.com",
        family="auth.verify_email",
        locale="en",
        payload={},
        content={"subject": "s", "text": "t", "html": None},
        idempotency_key=f"test:{new_id()}",
        attempts=3,
        error_code="TEMPORARY_FAILURE",
        failed_at=datetime.now(UTC),
    )
    session.add(message)
    await session.flush()
    return message


async def inbox_entry(session: AsyncSession, tenant: SeededTenant, user_id: UUID) -> InboxEntry:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    entry = InboxEntry(
        tenant_id=tenant.id,
        recipient_user_id=user_id,
        title="Hello",
        body="A notification",
        meta={},
    )
    session.add(entry)
    await session.flush()
    return entry


async def draft_template(session: AsyncSession, tenant: SeededTenant) -> MessageTemplate:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    suffix = new_id().hex[-10:]
    template = MessageTemplate(
        tenant_id=tenant.id,
        channel=Channel.SMS,
        code=f"test.sms.draft{suffix}",
        family=f"test.draft{suffix}",
        name="Draft",
        locale="en",
        body="Hi {{ name }}",
        variables={"name": {"required": True}},
        status=TemplateStatus.DRAFT,
    )
    session.add(template)
    await session.flush()
    return template


async def make_message(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return (await failed_message(session, world.a)).id, "messages_outbox"


async def make_entry(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return (await inbox_entry(session, world.a, world.a.admin_id)).id, "notifications_inbox"


async def make_template(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return (await draft_template(session, world.a)).id, "message_templates"


async def make_user_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return world.a.agent_id, "users"


async def send_stop(client: httpx.AsyncClient, world: World, number: str) -> None:
    """The workspace admin's number `number` replies STOP (an SMS opt-out with the number)."""
    response = await client.post(
        "/v1/notify/opt-out",
        json={
            "subject_type": "user",
            "subject_id": str(world.a.admin_id),
            "channel": "sms",
            "consent_source": "sms_keyword",
            "consent_text": "STOP",
            "e164": number,
        },
        headers=world.headers(world.a),
    )
    assert response.status_code == 201, response.text
