"""Coded dictionaries (canon §4): tenants read global rows and their own, write only theirs."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from m3crm.kernel.db.rls import enable_dictionary_rls
from tests.conftest import World
from tests.harness import MigratedDatabase, owner_conn


@pytest.fixture
def dictionary(test_db: MigratedDatabase, world: World) -> Iterator[str]:
    table = "test_codes"
    with owner_conn(test_db.urls) as conn:
        conn.execute(
            f"CREATE TABLE {table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
            " tenant_id uuid REFERENCES tenants(id), code text NOT NULL)"
        )
        conn.execute(
            f"CREATE UNIQUE INDEX ON {table}"
            " (COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'), code)"
        )
        for statement in enable_dictionary_rls(table):
            conn.execute(statement)
        conn.execute(f"INSERT INTO {table} (tenant_id, code) VALUES (NULL, 'global')")
        conn.execute(
            f"INSERT INTO {table} (tenant_id, code) VALUES (%s, 'alpha-only')", (world.a.id,)
        )
    yield table
    with owner_conn(test_db.urls) as conn:
        conn.execute(f"DROP TABLE {table}")


def test_reads_global_and_own_rows_only(
    test_db: MigratedDatabase, world: World, dictionary: str
) -> None:
    with psycopg.connect(test_db.urls.app_libpq) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(world.b.id),))
        codes = {r[0] for r in conn.execute(f"SELECT code FROM {dictionary}").fetchall()}
        assert codes == {"global"}


def test_writes_only_own_rows(test_db: MigratedDatabase, world: World, dictionary: str) -> None:
    with psycopg.connect(test_db.urls.app_libpq) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(world.b.id),))
        conn.execute(
            f"INSERT INTO {dictionary} (tenant_id, code) VALUES (%s, 'mine')", (world.b.id,)
        )
        changed = conn.execute(f"UPDATE {dictionary} SET code = 'hijacked' WHERE tenant_id IS NULL")
        assert changed.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"INSERT INTO {dictionary} (tenant_id, code) VALUES (NULL, 'fake-global')")
