"""group_roles: roles a group gives its members (spec §12.4 "assign default roles"), with RLS.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from m3crm.kernel.db.rls import enable_tenant_rls

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_roles",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("group_id", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "group_id"],
            ["groups.tenant_id", "groups.id"],
            name=op.f("fk_group_roles_tenant_id_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_group_roles_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_group_roles_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_group_roles")),
        sa.UniqueConstraint(
            "tenant_id",
            "group_id",
            "role_id",
            name=op.f("uq_group_roles_tenant_id_group_id_role_id"),
        ),
    )
    op.create_index(
        op.f("ix_group_roles_tenant_id_role_id"),
        "group_roles",
        ["tenant_id", "role_id"],
        unique=False,
    )
    for statement in enable_tenant_rls("group_roles"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f("ix_group_roles_tenant_id_role_id"), table_name="group_roles")
    op.drop_table("group_roles")
