"""Engines and tenant-scoped transactions for the application role.

Every transaction that touches tenant rows starts with `bind_tenant`, which does the
equivalent of `SET LOCAL app.tenant_id / app.user_id`. Row-level security reads those
settings, so a transaction that forgot to bind sees no tenant rows at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from m3crm.kernel.db.urls import DatabaseUrls

_BIND_SQL = text(
    "SELECT set_config('app.tenant_id', :tenant_id, true),"
    " set_config('app.user_id', :user_id, true)"
)


class Database:
    """The application role's engine and session factory (one per process)."""

    def __init__(self, urls: DatabaseUrls, *, pool_size: int = 10) -> None:
        self.urls = urls
        self.engine: AsyncEngine = create_async_engine(
            urls.app, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(
        self, tenant_id: UUID | None = None, user_id: UUID | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One transaction, bound to the tenant when given; commits on success."""
        async with self.sessions() as session, session.begin():
            if tenant_id is not None:
                await bind_tenant(session, tenant_id, user_id)
            yield session


async def bind_tenant(session: AsyncSession, tenant_id: UUID, user_id: UUID | None) -> None:
    """Scope the current transaction to `tenant_id` (transaction-local settings)."""
    await session.execute(
        _BIND_SQL,
        {"tenant_id": str(tenant_id), "user_id": str(user_id) if user_id else ""},
    )
