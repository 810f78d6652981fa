"""Upsert the platform plan catalog (`kernel.plan_catalog`) as the table owner."""

from __future__ import annotations

import psycopg

from m3crm.kernel.ids import new_id
from m3crm.kernel.plan_catalog import PLANS


def sync_plan_catalog(owner_libpq: str) -> None:
    """Idempotent: plans are matched by code; their features are replaced."""
    with psycopg.connect(owner_libpq) as conn, conn.transaction():
        for plan in PLANS.values():
            row = conn.execute(
                "INSERT INTO plans (id, code, name, tier, is_active, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, true, now(), now())"
                " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, tier = EXCLUDED.tier,"
                " updated_at = now() RETURNING id",
                (new_id(), plan.code, plan.name, plan.tier),
            ).fetchone()
            assert row is not None
            plan_id = row[0]
            conn.execute("DELETE FROM plan_features WHERE plan_id = %s", (plan_id,))
            entries: list[tuple[str, int | None]] = [(f, None) for f in sorted(plan.features)]
            entries += sorted(plan.limits.items())
            for feature, limit in entries:
                conn.execute(
                    "INSERT INTO plan_features (id, plan_id, feature, limit_value)"
                    " VALUES (%s, %s, %s, %s)",
                    (new_id(), plan_id, feature, limit),
                )
