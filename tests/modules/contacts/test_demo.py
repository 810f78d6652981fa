"""The demo agency gets realistic contacts (Arabic and English, Egyptian and UAE mobiles)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.seed import DEMO_SLUG, seed_demo
from tests.harness import MigratedDatabase


async def test_demo_contacts_are_seeded(test_db: MigratedDatabase) -> None:
    await seed_demo(test_db.urls)
    engine = create_async_engine(test_db.urls.owner)
    try:
        async with AsyncSession(engine) as session:
            row = (
                await session.execute(
                    text(
                        "SELECT count(DISTINCT c.id), count(*) FILTER (WHERE ch.normalized_value"
                        " LIKE '+20%'), count(*) FILTER (WHERE ch.normalized_value LIKE '+971%'),"
                        " count(*) FILTER (WHERE c.search_name LIKE '%محمد%')"
                        " FROM contacts c JOIN tenants t ON t.id = c.tenant_id"
                        " LEFT JOIN contact_channels ch ON ch.tenant_id = c.tenant_id"
                        " AND ch.contact_id = c.id WHERE t.slug = :slug"
                    ),
                    {"slug": DEMO_SLUG},
                )
            ).one()
    finally:
        await engine.dispose()
    contacts, egyptian, emirati, folded_arabic = row
    assert contacts >= 10 and egyptian >= 5 and emirati >= 2 and folded_arabic >= 1
