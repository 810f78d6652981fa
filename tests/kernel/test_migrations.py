"""Migrations round trip on an empty database, and models match migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, pool, text

from m3crm.kernel.db import migrate
from m3crm.kernel.db.base import Base
from m3crm.kernel.db.roles import ensure_app_role
from m3crm.kernel.db.urls import resolve_urls
from m3crm.modules import load_models
from migrations.env_filters import include_object
from tests.harness import fresh_database, settings_for


def test_upgrade_downgrade_upgrade_and_no_drift() -> None:
    settings = settings_for(fresh_database("m3crm_migrations"))
    urls = resolve_urls(settings)
    ensure_app_role(urls.owner_libpq, settings.app_db_role, "m3crm_app")
    migrate.upgrade(urls.owner)
    migrate.downgrade(urls.owner, "base")
    engine = create_engine(urls.owner, poolclass=pool.NullPool)
    with engine.connect() as conn:
        left = conn.execute(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        ).scalar()
        assert left == 0
    migrate.upgrade(urls.owner)
    load_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
