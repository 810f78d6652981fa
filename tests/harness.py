"""The test database: built by the migrations, reached as the application role.

One database per test session (`m3crm_test`), created fresh on the embedded server
(`var/pgtest`) or on `TEST_DATABASE_URL`'s server when that is set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from m3crm.bootstrap import sync_catalogs
from m3crm.kernel.db import migrate
from m3crm.kernel.db.embedded import start_embedded
from m3crm.kernel.db.roles import ensure_app_role
from m3crm.kernel.db.urls import DatabaseUrls, libpq, resolve_urls
from m3crm.settings import PROJECT_ROOT, Settings

TEST_DB = os.environ.get("M3CRM_TEST_DB", "m3crm_test")
"""Another name lets two test sessions share the embedded server without clashing."""


def server_url() -> str:
    """Owner URL of the maintenance database of the test server."""
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        return explicit
    return start_embedded(PROJECT_ROOT / "var" / "pgtest", database="postgres")


def fresh_database(name: str) -> str:
    """Drop and recreate `name`; return its owner URL."""
    maintenance = server_url()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(maintenance).set(database=name).render_as_string(hide_password=False)


def settings_for(owner_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "DATABASE_URL": owner_url,
        "log_json": False,
        "log_level": "WARNING",
        "rate_limit_ip": "100000/minute",
        "rate_limit_user": "100000/minute",
        "rate_limit_tenant": "100000/minute",
        "job_backoff_base_seconds": 0.0,
        "auth_rate_limits": {
            name: "100000/minute" for name in Settings.model_fields["auth_rate_limits"].default
        },
        "data_dir": Path(PROJECT_ROOT / "var"),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class MigratedDatabase:
    settings: Settings
    urls: DatabaseUrls


def build_test_database(name: str = TEST_DB) -> MigratedDatabase:
    owner = fresh_database(name)
    settings = settings_for(owner)
    urls = resolve_urls(settings)
    ensure_app_role(
        urls.owner_libpq, settings.app_db_role, settings.app_db_password.get_secret_value()
    )
    migrate.upgrade(urls.owner)
    sync_catalogs(urls.owner_libpq)
    return MigratedDatabase(settings=settings, urls=urls)


def owner_conn(urls: DatabaseUrls) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(libpq(urls.owner), autocommit=True)
