"""Shell preferences on user profiles (theme, density, time format, timezone); search
folding: `pg_trgm`, the `m3crm_fold(text)` function and the trigram index on users.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:49:44.126667
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from m3crm.kernel.text import fold_sql_function

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PREFERENCES = {
    "theme": ("light", ("light", "dark", "contrast")),
    "density": ("comfortable", ("comfortable", "compact")),
    "time_format": ("locale", ("locale", "h12", "h24")),
}


def upgrade() -> None:
    for column, (default, values) in PREFERENCES.items():
        op.add_column(
            "user_profiles",
            sa.Column(column, sa.String(length=20), server_default=default, nullable=False),
        )
        allowed = ", ".join(f"'{value}'" for value in values)
        op.create_check_constraint(
            op.f(f"ck_user_profiles_{column}"), "user_profiles", f"{column} IN ({allowed})"
        )
    op.add_column("user_profiles", sa.Column("timezone", sa.String(length=64), nullable=True))

    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(fold_sql_function())
    op.execute(
        "CREATE INDEX ix_users_search ON users"
        " USING gin (m3crm_fold(full_name || ' ' || email::text) gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_users_search")
    op.execute("DROP FUNCTION m3crm_fold(text)")
    op.drop_column("user_profiles", "timezone")
    for column in reversed(PREFERENCES):
        op.drop_constraint(op.f(f"ck_user_profiles_{column}"), "user_profiles", type_="check")
        op.drop_column("user_profiles", column)
