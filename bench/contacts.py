"""Contacts benchmark on a large tenant (issue 6 "Measure"): list, search, segment, import.

Builds its own database (`m3crm_bench_contacts`), loads `--contacts` contacts (default
1,000,000) with a phone channel each through COPY, refreshes statistics, then times —
through the same service calls the API makes, as the application role with RLS on:

- list page 1 and page 10,000 (seek pagination, 50 a page, newest first and by name);
- global search (folded-name trigram and phone-suffix queries);
- the live count of a two-condition segment (stage AND owner);
- a 100,000-row CSV import (check every row, then write them all) into a fresh tenant.

Usage: `.venv/bin/python bench/contacts.py [--contacts 1000000] [--repeat 30]`
Prints a Markdown table; `docs/PERFORMANCE.md` records the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from uuid_utils.compat import uuid7

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m3crm.app import register_modules  # noqa: E402
from m3crm.kernel.auth import AuthSubject, load_subject  # noqa: E402
from m3crm.kernel.db.session import Database  # noqa: E402
from m3crm.kernel.pagination import PageRequest, encode_sort_cursor  # noqa: E402
from m3crm.kernel.runs.context import RunContext  # noqa: E402
from m3crm.kernel.text import fold  # noqa: E402
from m3crm.modules.contacts.api_support import contact_sort  # noqa: E402
from m3crm.modules.contacts.contacts import contact as contact_service  # noqa: E402
from m3crm.modules.contacts.imports import imports  # noqa: E402
from m3crm.modules.contacts.jobs import import_contacts  # noqa: E402
from m3crm.modules.contacts.models import SegmentEntity  # noqa: E402
from m3crm.modules.contacts.repository import ContactFilters  # noqa: E402
from m3crm.modules.contacts.search import search_contacts  # noqa: E402
from m3crm.modules.contacts.segments import segment as segment_service  # noqa: E402
from tests.factories import SeededTenant, make_tenant  # noqa: E402
from tests.harness import build_test_database  # noqa: E402

FIRST = [
    "محمد",
    "أحمد",
    "مُصطفى",
    "فاطمة",
    "نورة",
    "ياسمين",
    "خالد",
    "Omar",
    "Sara",
    "Youssef",
    "Mariam",
    "Hassan",
    "Layla",
    "Karim",
    "Mona",
    "Tarek",
    "Hoda",
    "Nour",
    "Ali",
    "Reem",
]
LAST = [
    "عبد الله",
    "إبراهيم",
    "السيد",
    "الكعبي",
    "فؤاد",
    "Hamdy",
    "Adel",
    "Sherif",
    "Nabil",
    "El-Masry",
    "Tawfik",
    "Mansour",
    "Saleh",
    "Gamal",
    "Zaki",
    "Fahmy",
    "Rashid",
]
STAGES = ["lead", "prospect", "customer", "inactive", "lost"]
PAGE = 50


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def load(owner_libpq: str, tenant: SeededTenant, count: int) -> None:
    """COPY `count` contacts and one phone channel each (Egyptian or UAE mobiles)."""
    rng = random.Random(6)
    owners = [tenant.admin_id, tenant.agent_id]
    with psycopg.connect(owner_libpq) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant.id),))
        with cur.copy(
            "COPY contacts (tenant_id, id, first_name, last_name, owner_user_id,"
            " lifecycle_stage, is_private, source) FROM STDIN"
        ) as copy:
            ids = []
            for _ in range(count):
                cid = uuid7()
                ids.append(cid)
                copy.write_row(
                    (
                        tenant.id,
                        cid,
                        rng.choice(FIRST),
                        rng.choice(LAST),
                        rng.choice(owners),
                        rng.choice(STAGES),
                        False,
                        "bench",
                    )
                )
        with cur.copy(
            "COPY contact_channels (tenant_id, id, contact_id, type, value, normalized_value,"
            " is_primary, opt_in) FROM STDIN"
        ) as copy:
            for i, cid in enumerate(ids):
                number = f"+2010{i:08d}" if i % 4 else f"+97150{i:07d}"
                copy.write_row((tenant.id, uuid7(), cid, "phone", number, number, True, False))
        conn.commit()
        cur.execute("ANALYZE contacts")
        cur.execute("ANALYZE contact_channels")
        conn.commit()


async def timed(repeat: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def subject_of(db: Database, tenant: SeededTenant) -> AuthSubject:
    async with db.transaction(tenant.id) as session:
        subject = await load_subject(session, tenant.id, tenant.admin_id)
    assert subject is not None
    return subject


async def deep_cursor(db: Database, subject: AuthSubject, pages: int) -> str | None:
    """The cursor of page `pages + 1`, found once with OFFSET (setup, not measured)."""
    stmt = text("SELECT id FROM contacts WHERE tenant_id = :t ORDER BY id DESC OFFSET :o LIMIT 1")
    async with db.transaction(subject.tenant_id) as session:
        row = (
            await session.execute(stmt, {"t": subject.tenant_id, "o": pages * PAGE - 1})
        ).scalar()
    return encode_sort_cursor(None, row) if row else None


async def measure(db: Database, subject: AuthSubject, repeat: int, count: int) -> dict[str, float]:
    results: dict[str, float] = {}
    tid = subject.tenant_id
    cursor = await deep_cursor(db, subject, min(10_000, count // PAGE - 1))

    async def page(cursor_value: str | None) -> None:
        async with db.transaction(tid) as session:
            await contact_service.list_page(
                session,
                subject,
                ContactFilters(),
                PageRequest(limit=PAGE, cursor=cursor_value),
                contact_sort("-created"),
            )

    first = await timed(repeat, lambda: page(None))
    deep = await timed(repeat, lambda: page(cursor))
    results["list p95 page 1 (ms)"] = p95(first)
    results["list p95 page 10,000 (ms)"] = p95(deep)
    results["ratio page 10,000 / page 1 (p95)"] = p95(deep) / p95(first)

    queries = ["محمد عبد", "ابراهيم", "sara ham", "youssef", "7654", "12345", "نوره الكعبي"]
    rng = random.Random(7)

    async def search() -> None:
        async with db.transaction(tid) as session:
            await search_contacts(session, subject, fold(rng.choice(queries)), 8)

    results["search p95 (ms)"] = p95(await timed(repeat, search))
    definition = {
        "op": "and",
        "conditions": [
            {"field": "lifecycle_stage", "operator": "eq", "value": "customer"},
            {"field": "owner_user_id", "operator": "eq", "value": str(subject.user_id)},
        ],
    }

    async def segment_count() -> None:
        async with db.transaction(tid) as session:
            condition = await segment_service.condition(
                session, subject, SegmentEntity.CONTACT, definition
            )
            await contact_service.count(session, subject, ContactFilters(segment=condition))

    results["segment count p95, 2 conditions (ms)"] = p95(
        await timed(max(5, repeat // 3), segment_count)
    )
    return results


async def import_rows(db: Database, owner_url: str, rows: int) -> dict[str, float]:
    engine = create_async_engine(owner_url)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug="bench-import", plan_code="DevPro")
    await engine.dispose()
    subject = await subject_of(db, tenant)
    lines = ["first_name,last_name,email,phone,lifecycle_stage"]
    lines += [f"Name{i},Imported,person{i}@bench.test,+2011{i:08d},lead" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    async with db.transaction(tenant.id, tenant.admin_id) as session:
        upload = await imports.upload(session, subject, "bench.csv", data)
        previewed = await imports.preview(session, subject, upload.id)
        assert previewed.summary is not None
        assert previewed.summary["valid"] == rows, previewed.summary
        upload_id = upload.id
    checked = time.perf_counter()
    async with db.transaction(tenant.id, tenant.admin_id) as session:
        ctx = RunContext(
            session=session,
            subject=subject,
            run_id=UUID(int=0),
            payload={"import_id": str(upload_id)},
            database=db,
        )
        result = await import_contacts(ctx)
    done = time.perf_counter()
    assert result["imported"] == rows
    return {
        f"import {rows:,} rows: upload + preview (s)": checked - started,
        f"import {rows:,} rows: run (check + write) (s)": done - checked,
        f"import {rows:,} rows: total (s)": done - started,
    }


async def main(count: int, repeat: int, import_count: int) -> None:
    built = build_test_database("m3crm_bench_contacts")
    register_modules()
    engine = create_async_engine(built.urls.owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug="bench", plan_code="DevPro")
    await engine.dispose()
    started = time.perf_counter()
    load(built.urls.owner_libpq, tenant, count)
    loaded = time.perf_counter() - started
    db = Database(built.urls, pool_size=4)
    try:
        subject = await subject_of(db, tenant)
        results = {f"load {count:,} contacts via COPY (s)": loaded}
        results |= await measure(db, subject, repeat, count)
        results |= await import_rows(db, built.urls.owner, import_count)
    finally:
        await db.dispose()
    print("| measure | value |\n|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--import-rows", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(main(args.contacts, args.repeat, args.import_rows))
