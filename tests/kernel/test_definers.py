"""The pre-tenant lookups (ARCHITECTURE §2.10): exactly the listed SECURITY DEFINER
functions, owned by the definer role, callable by the app role, returning the minimum."""

from __future__ import annotations

import psycopg

from m3crm.kernel.db import definers
from tests.conftest import World
from tests.harness import MigratedDatabase, owner_conn


def test_every_listed_function_is_a_definer_owned_by_the_definer_role(
    test_db: MigratedDatabase,
) -> None:
    with owner_conn(test_db.urls) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner)"
            " FROM pg_proc p WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace"
        ).fetchall()
    assert sorted(rows) == sorted((f.name, True, definers.DEFINER_ROLE) for f in definers.ALL)
    with owner_conn(test_db.urls) as conn:
        role = conn.execute(
            "SELECT rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s",
            (definers.DEFINER_ROLE,),
        ).fetchone()
    assert role == (False, False)


def test_app_role_sees_no_outbox_rows_without_a_tenant_but_the_lookup_works(
    test_db: MigratedDatabase, world: World
) -> None:
    with owner_conn(test_db.urls) as conn:
        conn.execute(
            "INSERT INTO messages_outbox (tenant_id, id, channel, type, status, to_address,"
            " locale, payload, content, idempotency_key, is_mirror, attempts, provider,"
            " provider_message_id, scheduled_at, created_at, updated_at) VALUES"
            " (%s, gen_random_uuid(), 'email', 'transactional', 'sent', 'a@b.test', 'en',"
            " '{}', '{}', 'definer-test', false, 1, 'brevo', 'definer-msg-1', now(), now(),"
            " now())",
            (world.a.id,),
        )
    try:
        with psycopg.connect(test_db.urls.app_libpq) as conn:
            visible = conn.execute("SELECT count(*) FROM messages_outbox").fetchone()
            assert visible == (0,)
            found = conn.execute(
                f"SELECT {definers.OUTBOX_TENANT_BY_PROVIDER_ID.name}('brevo', 'definer-msg-1')"
            ).fetchone()
            assert found == (world.a.id,)
            missing = conn.execute(
                f"SELECT {definers.OUTBOX_TENANT_BY_PROVIDER_ID.name}('brevo', 'nope')"
            ).fetchone()
            assert missing == (None,)
    finally:
        with owner_conn(test_db.urls) as conn:
            conn.execute("DELETE FROM messages_outbox WHERE idempotency_key = 'definer-test'")
