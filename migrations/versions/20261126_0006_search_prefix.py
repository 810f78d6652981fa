"""Global search on users that row-level security can index: a stored folded column.

Migration 0005's trigram index (`ix_users_search`, GIN over `m3crm_fold(...)`) is never
used by request traffic: under RLS, PostgreSQL only turns a query's condition into an
index condition when the condition is LEAKPROOF, and neither `lower()`/`translate()`
(inside `m3crm_fold`) nor `ILIKE`/`LIKE`/`%` are. Measured on 100,000 users as the app
role: a sequential scan recomputing the fold on every row (≈ 650 ms).

Instead the folded text is stored once per row (`users.search_text`, generated, collation
"C") and indexed with a plain btree `(tenant_id, search_text) INCLUDE (id)`. A prefix test
written as a range (`search_text >= :q AND search_text < :next`; text comparisons are
leakproof) is an index range scan under RLS. A substring test (`LIKE`) is a filter on a
scan of the tenant's rows (or of its index entries, which carry `id`) that stops at the
wanted number of hits: no fold recomputed, but a rare substring still reads every row.

The column follows `m3crm_fold`: a migration that changes the function's rules must
rewrite the column (e.g. `UPDATE users SET full_name = full_name`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 02:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FOLDED = "m3crm_fold(full_name::text || ' ' || email::text)"


def upgrade() -> None:
    op.execute("DROP INDEX ix_users_search")
    op.execute(
        'ALTER TABLE users ADD COLUMN search_text text COLLATE "C"'
        f" NOT NULL GENERATED ALWAYS AS ({FOLDED}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_users_text_search ON users (tenant_id, search_text) INCLUDE (id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_users_text_search")
    op.execute("ALTER TABLE users DROP COLUMN search_text")
    op.execute(
        "CREATE INDEX ix_users_search ON users"
        " USING gin (m3crm_fold(full_name || ' ' || email::text) gin_trgm_ops)"
    )
