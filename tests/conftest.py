"""Shared fixtures: a migrated database, two committed tenants, per-test rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.app import create_app, register_modules
from m3crm.kernel.auth import get_session
from m3crm.kernel.db import migrate
from m3crm.kernel.db.session import Database
from m3crm.settings import Settings
from tests.factories import SeededTenant, bearer, make_tenant
from tests.harness import MigratedDatabase, build_test_database


@dataclass(frozen=True, slots=True)
class World:
    """Two tenants, always: A on DevPro, B on DevFree."""

    a: SeededTenant
    b: SeededTenant
    settings: Settings

    def headers(self, tenant: SeededTenant, user: str = "admin") -> dict[str, str]:
        return bearer(self.settings, tenant.id, getattr(tenant, f"{user}_id"))


@pytest.fixture(scope="session")
def test_db() -> MigratedDatabase:
    return build_test_database()


@pytest.fixture(scope="session")
def settings(test_db: MigratedDatabase) -> Settings:
    return test_db.settings


@pytest.fixture(scope="session")
async def world(test_db: MigratedDatabase) -> World:
    engine = create_async_engine(test_db.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        a = await make_tenant(session, slug="alpha", plan_code="DevPro")
    async with AsyncSession(engine) as session, session.begin():
        b = await make_tenant(session, slug="bravo", plan_code="DevFree")
    await engine.dispose()
    return World(a=a, b=b, settings=test_db.settings)


@pytest.fixture(scope="session")
async def database(test_db: MigratedDatabase) -> AsyncIterator[Database]:
    register_modules()
    db = Database(test_db.urls, pool_size=5)
    yield db
    await db.dispose()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session as the app role inside a transaction rolled back after the test."""
    async with database.engine.connect() as conn:
        outer = await conn.begin()
        s = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield s
        finally:
            await s.close()
            await outer.rollback()


def build_app(settings: Settings, database: Database) -> FastAPI:
    app = create_app(settings, database=database)
    app.state.database = database
    app.state.migration_head = migrate.head_revision(database.urls.owner)
    return app


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database) -> FastAPI:
    return build_app(settings, database)


@pytest.fixture
async def client(app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP client whose requests share the test's rolled-back transaction."""

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = test_session
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    app.dependency_overrides.clear()


def error_code(response: httpx.Response) -> Any:
    return response.json()["error"]["code"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps its own event loop running for
    the rest of the session, which the async tests must not share."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
