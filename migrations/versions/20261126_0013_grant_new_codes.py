"""Existing tenants' built-in admin roles receive the permission codes added after they
were seeded (`dictionaries.manage`); role templates only seed new tenants.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 04:18:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NEW_CODES = ("dictionaries.manage",)
ROLES = ("super_admin", "admin")


def upgrade() -> None:
    codes = ", ".join(f"'{code}'" for code in NEW_CODES)
    roles = ", ".join(f"'{role}'" for role in ROLES)
    op.execute(
        "INSERT INTO role_permissions (tenant_id, id, role_id, permission_code)"
        f" SELECT r.tenant_id, gen_random_uuid(), r.id, c.code FROM roles r"
        f" CROSS JOIN unnest(ARRAY[{codes}]) AS c(code)"
        f" WHERE r.code IN ({roles})"
        " ON CONFLICT (tenant_id, role_id, permission_code) DO NOTHING"
    )


def downgrade() -> None:
    """Nothing to undo: the codes stay granted (a tenant may have granted them itself)."""
