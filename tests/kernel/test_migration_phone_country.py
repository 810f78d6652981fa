"""Migration 0016 backfills the country of phones verified before it (spec §8)."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import create_engine, pool, text

from m3crm.kernel.db import migrate
from m3crm.kernel.db.roles import ensure_app_role
from m3crm.kernel.db.urls import resolve_urls
from tests.harness import fresh_database, settings_for

PROFILE = (
    "INSERT INTO user_profiles (tenant_id, id, user_id, failed_logins, phone_e164,"
    " phone_verified_at) VALUES (:t, :id, :u, 0, :phone, {verified})"
)


def test_backfill_sets_the_country_of_verified_phones_only() -> None:
    settings = settings_for(fresh_database("m3crm_migrations_phone_country"))
    urls = resolve_urls(settings)
    ensure_app_role(urls.owner_libpq, settings.app_db_role, "m3crm_app")
    migrate.upgrade(urls.owner, "0015")
    tenant = uuid4()
    profiles = {"verified": uuid4(), "pending": uuid4(), "freephone": uuid4()}
    engine = create_engine(urls.owner, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, slug, status, default_locale, currency)"
                " VALUES (:t, 'Backfill', :slug, 'active', 'en', 'EGP')"
            ),
            {"t": tenant, "slug": f"bf-{tenant.hex[:8]}"},
        )
        for name, profile_id in profiles.items():
            user = uuid4()
            conn.execute(
                text(
                    "INSERT INTO users (tenant_id, id, email, full_name, locale, status,"
                    " is_verified) VALUES (:t, :u, :email, 'X', 'en', 'active', true)"
                ),
                {"t": tenant, "u": user, "email": f"{name}@backfill.test"},
            )
            phone = "+80012345678" if name == "freephone" else "+201001234567"
            verified = "NULL" if name == "pending" else "now()"
            conn.execute(
                text(PROFILE.format(verified=verified)),
                {"t": tenant, "id": profile_id, "u": user, "phone": phone},
            )
    migrate.upgrade(urls.owner)
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
        found = conn.execute(text("SELECT id, phone_country FROM user_profiles"))
        rows = {row.id: row.phone_country for row in found}
        forced = conn.execute(
            text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'user_profiles'")
        ).scalar_one()
    engine.dispose()
    assert rows == {profiles["verified"]: "EG", profiles["pending"]: None,
                    profiles["freephone"]: None}  # fmt: skip
    assert forced is True
