"""Migration helpers for the tenancy canon (ARCHITECTURE §2.3, §2.4, §2.9).

Migrations call these through `op.execute`; the schema guard test checks the result in
the live catalog, so a table that skipped them cannot reach main.
"""

from __future__ import annotations

APP_GROUP_ROLE = "m3crm_rw"
"""NOLOGIN role holding the application's grants; the login app role is a member."""

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def create_app_group_role() -> str:
    return (
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        f"'{APP_GROUP_ROLE}') THEN CREATE ROLE {APP_GROUP_ROLE} NOLOGIN NOBYPASSRLS; "
        "END IF; END $$"
    )


def enable_tenant_rls(table: str, *, append_only: bool = False) -> list[str]:
    """Statements that enable + force RLS on a tenant table and grant the app role.

    `append_only` grants SELECT/INSERT only and installs a trigger that refuses UPDATE
    and DELETE for everyone, the owner included.
    """
    grants = "SELECT, INSERT" if append_only else "SELECT, INSERT, UPDATE, DELETE"
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING (tenant_id = {CURRENT_TENANT})"
        f" WITH CHECK (tenant_id = {CURRENT_TENANT})",
        f"GRANT {grants} ON {table} TO {APP_GROUP_ROLE}",
    ]
    if append_only:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION m3crm_refuse_change()"
        )
    return statements


def enable_dictionary_rls(table: str) -> list[str]:
    """RLS for coded dictionaries mixing global (`tenant_id IS NULL`) and tenant rows:
    tenant traffic reads global rows and its own, and writes only its own."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY dictionary_read ON {table} FOR SELECT"
        f" USING (tenant_id IS NULL OR tenant_id = {CURRENT_TENANT})",
        f"CREATE POLICY dictionary_write ON {table} FOR ALL"
        f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_GROUP_ROLE}",
    ]
