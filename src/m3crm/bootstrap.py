"""Bringing a database to a usable state: server, roles, migrations, platform data."""

from __future__ import annotations

import structlog

from m3crm.kernel.db import migrate
from m3crm.kernel.db.embedded import start_embedded
from m3crm.kernel.db.roles import ensure_app_role
from m3crm.kernel.db.urls import DatabaseUrls, resolve_urls
from m3crm.modules.notify.catalog import sync_template_catalog
from m3crm.modules.plans.catalog_sync import sync_plan_catalog
from m3crm.settings import Settings

log = structlog.get_logger(__name__)


def database_urls(settings: Settings) -> DatabaseUrls:
    """`DATABASE_URL` when set; otherwise start (or reuse) the embedded server."""
    if settings.database_url:
        return resolve_urls(settings)
    return resolve_urls(settings, owner_url=start_embedded(settings.data_dir))


def prepare_database(settings: Settings) -> DatabaseUrls:
    """Idempotent: app role, `alembic upgrade head`, catalogs. Safe on every start."""
    urls = database_urls(settings)
    ensure_app_role(
        urls.owner_libpq, settings.app_db_role, settings.app_db_password.get_secret_value()
    )
    migrate.upgrade(urls.owner)
    sync_catalogs(urls.owner_libpq)
    log.info("database.ready")
    return urls


def sync_catalogs(owner_libpq: str) -> None:
    """Platform reference data kept in code: the plans and the seeded templates."""
    sync_plan_catalog(owner_libpq)
    sync_template_catalog(owner_libpq)
