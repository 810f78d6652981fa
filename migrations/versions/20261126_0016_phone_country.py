"""user_profiles.phone_country: the ISO region of the verified phone (spec §8 "country stored").

Existing verified numbers are backfilled from `phonenumbers` (the same rule as
`notify.addresses.phone_region`). The table forces RLS even on its owner, so the backfill
lifts the force for its own statements only, inside the migration's transaction.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

from __future__ import annotations

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _region(e164: str) -> str | None:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    # "ZZ" is unknown and "001" non-geographic: only a two-letter region is a country.
    return region if region and len(region) == 2 and region.isalpha() and region != "ZZ" else None


def _backfill() -> None:
    bind = op.get_bind()
    op.execute("ALTER TABLE user_profiles NO FORCE ROW LEVEL SECURITY")
    rows = bind.execute(
        sa.text(
            "SELECT tenant_id, id, phone_e164 FROM user_profiles"
            " WHERE phone_e164 IS NOT NULL AND phone_verified_at IS NOT NULL"
        )
    ).all()
    update = sa.text(
        "UPDATE user_profiles SET phone_country = :country WHERE tenant_id = :t AND id = :id"
    )
    for tenant_id, row_id, e164 in rows:
        country = _region(e164)
        if country is not None:
            bind.execute(update, {"country": country, "t": tenant_id, "id": row_id})
    op.execute("ALTER TABLE user_profiles FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.add_column("user_profiles", sa.Column("phone_country", sa.String(length=2), nullable=True))
    _backfill()


def downgrade() -> None:
    op.drop_column("user_profiles", "phone_country")
