"""The procrastinate job queue schema (pinned by uv.lock), usable by the app role.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from procrastinate.schema import SchemaManager

from m3crm.kernel.db.rls import APP_GROUP_ROLE

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(SchemaManager.get_schema())
    op.execute(
        f"""
        DO $$
        DECLARE obj record;
        BEGIN
          FOR obj IN SELECT tablename FROM pg_tables
                     WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO {APP_GROUP_ROLE}',
                           obj.tablename);
          END LOOP;
          FOR obj IN SELECT sequencename FROM pg_sequences
                     WHERE schemaname = 'public' AND sequencename LIKE 'procrastinate%' LOOP
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO {APP_GROUP_ROLE}',
                           obj.sequencename);
          END LOOP;
        END $$
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE obj record;
        BEGIN
          FOR obj IN SELECT tablename FROM pg_tables
                     WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
            EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', obj.tablename);
          END LOOP;
          FOR obj IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%' LOOP
            EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', obj.sig);
          END LOOP;
          FOR obj IN SELECT t.typname FROM pg_type t
                     JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate%'
                       AND t.typtype IN ('e', 'c') LOOP
            EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', obj.typname);
          END LOOP;
        END $$
        """
    )
