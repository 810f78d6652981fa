"""Makers of identity rows for tests (and the isolation matrix)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.identity.models import AuthSession, Invite
from tests.conftest import World


async def make_session(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    now = datetime.now(UTC)
    row = AuthSession(
        tenant_id=world.a.id,
        user_id=world.a.admin_id,
        expires_at=now + timedelta(days=1),
        absolute_expires_at=now + timedelta(days=2),
    )
    session.add(row)
    await session.flush()
    return row.id, "sessions"


async def make_invite(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    row = Invite(
        tenant_id=world.a.id,
        email=f"invitee-{datetime.now(UTC).timestamp()}@example.com",
        role_codes=["staff"],
        inviter_id=world.a.admin_id,
        token_hash=f"{datetime.now(UTC).timestamp():064}"[-64:],
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    session.add(row)
    await session.flush()
    return row.id, "invites"
