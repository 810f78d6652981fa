"""audit_logs: index "what this person did" (the person page's timeline, the actor filter).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_audit_logs_tenant_id_actor_user_id_occurred_at"


def upgrade() -> None:
    op.create_index(INDEX, "audit_logs", ["tenant_id", "actor_user_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="audit_logs")
