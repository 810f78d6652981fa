"""Creation of the login role used by request and job traffic."""

from __future__ import annotations

import psycopg
from psycopg import sql

from m3crm.kernel.db.rls import APP_GROUP_ROLE, create_app_group_role


def ensure_app_role(owner_libpq: str, role: str, password: str) -> None:
    """Create (or fix) the login app role: not owner, no BYPASSRLS, member of the group.

    Idempotent; run before migrations by `m3crm migrate` and by the test harness.
    """
    with psycopg.connect(owner_libpq, autocommit=True) as conn:
        conn.execute(create_app_group_role())
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(
                verb + " ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD {}"
            ).format(sql.Identifier(role), sql.Literal(password))
        )
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_GROUP_ROLE), sql.Identifier(role))
        )
        dbname = conn.info.dbname
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(role)
            )
        )
