"""Schema guard (ARCHITECTURE §8): the live catalog obeys the tenancy canon."""

from __future__ import annotations

import psycopg

from m3crm.kernel.db.definers import DEFINER_ROLE
from tests.harness import MigratedDatabase, owner_conn

# Tables without `tenant_id`, each with the reason it may be so.
ALLOWLIST = {
    "tenants": "platform table; RLS limits tenant traffic to its own row (policy tenant_self)",
    "plans": "platform reference data, read-only for the app role",
    "plan_features": "platform reference data, read-only for the app role",
    "alembic_version": "migration bookkeeping, read-only for the app role",
}
# Tables whose `tenant_id` may be NULL for global rows, each with its policy's reason.
GLOBAL_ROW_TABLES = {
    "message_templates": "product-seeded templates (global) + tenant overrides (dictionary RLS)",
    "provider_credentials": "global credentials + tenant overrides (dictionary RLS)",
    "integration_webhook_logs": "raw receipts; unmatched ones have no tenant (insert-only)",
    "job_title_codes": "coded dictionary: product-seeded codes + tenant codes (dictionary RLS)",
    "department_codes": "coded dictionary: product-seeded codes + tenant codes (dictionary RLS)",
}
QUEUE_PREFIX = "procrastinate_"  # the job queue: tenant and actor live in the OperationRun


def tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows if not str(r[0]).startswith(QUEUE_PREFIX)]


def tenant_tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Tables that must obey the canon: every table not in the allowlist."""
    return [t for t in tables(conn) if t not in ALLOWLIST and t not in GLOBAL_ROW_TABLES]


def test_every_table_is_tenant_owned_or_allowlisted(test_db: MigratedDatabase) -> None:
    with owner_conn(test_db.urls) as conn:
        for table in tenant_tables(conn):
            column = conn.execute(
                "SELECT is_nullable FROM information_schema.columns"
                " WHERE table_name = %s AND column_name = 'tenant_id'",
                (table,),
            ).fetchone()
            assert column is not None, f"{table} has no tenant_id"
            assert column[0] == "NO", f"{table}.tenant_id is nullable"


def test_tenant_tables_lead_primary_key_with_tenant_id(test_db: MigratedDatabase) -> None:
    with owner_conn(test_db.urls) as conn:
        for table in tenant_tables(conn):
            pk = conn.execute(
                "SELECT a.attname FROM pg_index i"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (table,),
            ).fetchone()
            assert pk is not None and pk[0] == "tenant_id", f"{table} PK must start with tenant_id"


def test_tenant_tables_force_rls_with_policy(test_db: MigratedDatabase) -> None:
    with owner_conn(test_db.urls) as conn:
        for table in [*tenant_tables(conn), *GLOBAL_ROW_TABLES, "tenants"]:
            rls = conn.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
                (table,),
            ).fetchone()
            assert rls == (True, True), f"{table} must ENABLE and FORCE row level security"
            policies = conn.execute(
                "SELECT coalesce(qual, with_check) FROM pg_policies WHERE tablename = %s"
                " AND roles <> ARRAY[%s]::name[]",
                (table, DEFINER_ROLE),
            ).fetchall()
            assert policies, f"{table} has no policy"
            assert all("app.tenant_id" in str(p[0]) for p in policies)


def test_definer_policies_only_read(test_db: MigratedDatabase) -> None:
    """The definer role's policies are SELECT-only; its functions are the only way in."""
    with owner_conn(test_db.urls) as conn:
        commands = conn.execute(
            "SELECT DISTINCT cmd FROM pg_policies WHERE roles = ARRAY[%s]::name[]",
            (DEFINER_ROLE,),
        ).fetchall()
        assert commands == [("SELECT",)]


def test_references_between_tenant_tables_are_composite(test_db: MigratedDatabase) -> None:
    """Every FK from a tenant table to another tenant table includes tenant_id."""
    with owner_conn(test_db.urls) as conn:
        rows = conn.execute(
            """
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,
                   array(SELECT attname FROM pg_attribute
                         WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey))
            FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            """
        ).fetchall()
        owned = set(tenant_tables(conn))
        checked = 0
        for source, target, columns in rows:
            if source in owned and target in owned:
                checked += 1
                assert "tenant_id" in columns, f"{source} → {target} must be composite"
        assert checked >= 5


def test_app_role_is_neither_owner_nor_bypassrls(test_db: MigratedDatabase) -> None:
    role = test_db.settings.app_db_role
    with owner_conn(test_db.urls) as conn:
        attrs = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        assert attrs == (False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tableowner = %s", (role,)
        ).fetchone()
        assert owned == (0,)
