"""RLS backstop: raw SQL as the app role, bound to tenant B, cannot touch A's rows."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import World
from tests.harness import MigratedDatabase


def app_conn(
    test_db: MigratedDatabase, tenant_id: object
) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(test_db.urls.app_libpq)
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
    return conn


def test_other_tenant_rows_are_invisible(test_db: MigratedDatabase, world: World) -> None:
    with app_conn(test_db, world.b.id) as conn:
        seen = conn.execute("SELECT count(*) FROM users WHERE tenant_id = %s", (world.a.id,))
        assert seen.fetchone() == (0,)
        own = conn.execute("SELECT count(*) FROM users").fetchone()
        assert own is not None and int(str(own[0])) >= 3
        tenants = conn.execute("SELECT id FROM tenants").fetchall()
        assert tenants == [(world.b.id,)]


def test_other_tenant_rows_cannot_be_updated_or_deleted(
    test_db: MigratedDatabase, world: World
) -> None:
    with app_conn(test_db, world.b.id) as conn:
        updated = conn.execute(
            "UPDATE users SET full_name = 'x' WHERE tenant_id = %s", (world.a.id,)
        )
        assert updated.rowcount == 0
        deleted = conn.execute("DELETE FROM roles WHERE tenant_id = %s", (world.a.id,))
        assert deleted.rowcount == 0
        conn.rollback()


def test_inserting_into_other_tenant_is_refused(test_db: MigratedDatabase, world: World) -> None:
    with app_conn(test_db, world.b.id) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "INSERT INTO roles (tenant_id, id, code, name, is_system)"
            " VALUES (%s, gen_random_uuid(), 'evil', 'Evil', false)",
            (world.a.id,),
        )


def test_no_tenant_bound_sees_nothing(test_db: MigratedDatabase, world: World) -> None:
    with psycopg.connect(test_db.urls.app_libpq) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)


def test_composite_fk_refuses_cross_tenant_reference(
    test_db: MigratedDatabase, world: World
) -> None:
    """Even with the right tenant bound, a row cannot point at another tenant's row."""
    with app_conn(test_db, world.b.id) as conn:
        role = conn.execute("SELECT id FROM roles LIMIT 1").fetchone()
        assert role is not None
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "INSERT INTO user_roles (tenant_id, id, user_id, role_id)"
                " VALUES (%s, gen_random_uuid(), %s, %s)",
                (world.b.id, world.a.admin_id, role[0]),
            )


def test_audit_log_is_append_only(test_db: MigratedDatabase, world: World) -> None:
    with app_conn(test_db, world.a.id) as conn:
        conn.execute(
            "INSERT INTO audit_logs (tenant_id, id, action, entity_type)"
            " VALUES (%s, gen_random_uuid(), 'test.append', 'test')",
            (world.a.id,),
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE audit_logs SET action = 'tampered'")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_logs")
        conn.rollback()
