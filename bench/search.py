"""Global search benchmark: `GET /v1/search` over 100,000 users of one tenant.

Seeds one tenant (DevPro, an admin who holds `user.read`), then COPYs 100,000 users into
it as the owner role: mixed Arabic (with and without harakat, hamza and alef variants)
and English names, e-mails built from their Latin spelling. VACUUM ANALYZE. One uvicorn process
serves the app; for each query, one keep-alive connection sends the same request
repeatedly (server time on loopback; p50 / p95). In the same run the raw SQL of the
search (bind tenant, the prefix step, the substring step when the repository would run
it) is timed with psycopg as the application role (RLS on), and its plan is shown.

Usage: `.venv/bin/python bench/search.py [--users 100000] [--requests 200]`
Prints a Markdown table; `docs/PERFORMANCE.md` records the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.contacts import load as load_contacts  # noqa: E402
from bench.kernel import pct  # noqa: E402
from bench.notify import wait_for_port  # noqa: E402
from m3crm.app import register_modules  # noqa: E402
from m3crm.kernel.ids import new_id  # noqa: E402
from m3crm.kernel.text import fold, prefix_upper_bound  # noqa: E402
from m3crm.kernel.tokens import mint_access_token  # noqa: E402
from m3crm.modules.identity.repository_users import (  # noqa: E402
    SUBSTRING_MIN_CHARS,
    SUBSTRING_WINDOW,
)
from tests.factories import make_tenant  # noqa: E402
from tests.harness import build_test_database  # noqa: E402
from tests.live import free_port  # noqa: E402

# (Arabic spellings as people write them, Latin spelling for the e-mail)
ARABIC_FIRST = [
    (("أحمد", "أَحْمَد", "احمد"), "ahmed"),
    (("محمد", "مُحَمَّد"), "mohamed"),
    (("إبراهيم", "ابراهيم"), "ibrahim"),
    (("فاطمة", "فاطمه"), "fatma"),
    (("عائشة",), "aisha"),
    (("مصطفى", "مصطفي"), "mostafa"),
    (("يوسف",), "youssef"),
    (("مريم",), "mariam"),
    (("نور",), "nour"),
    (("سلمى",), "salma"),
    (("خالد",), "khaled"),
    (("عمر",), "omar"),
    (("إيمان", "ايمان"), "eman"),
    (("آمال", "امال"), "amal"),
    (("هدى",), "hoda"),
    (("ياسمين",), "yasmin"),
]
ARABIC_LAST = [
    ("الشريف", "elsherif"),
    ("السيد", "elsayed"),
    ("عبد الرحمن", "abdelrahman"),
    ("المصري", "elmasry"),
    ("القحطاني", "alqahtani"),
    ("الزهراني", "alzahrani"),
    ("العتيبي", "alotaibi"),
    ("حسين", "hussein"),
    ("سالم", "salem"),
    ("منصور", "mansour"),
    ("فاروق", "farouk"),
    ("النجار", "elnaggar"),
]
LATIN_FIRST = ["Ahmed", "Mohamed", "Sara", "John", "Emily", "Omar", "Youssef", "Laila", "David"]
LATIN_FIRST += ["Nadia", "Karim", "Olivia", "James", "Hana", "Tarek", "Sophie", "Yasmin"]
LATIN_LAST = ["Smith", "Hassan", "Farouk", "Brown", "Mansour", "Wilson", "Nasser", "Taylor"]
LATIN_LAST += ["Khalil", "Martin", "Saleh", "Clarke", "Haddad", "Evans", "Aziz"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "nile-homes.eg", "gulf-realty.ae"]
DOMAINS += ["riyadh-estates.sa", "example.com", "brokers.eg"]

# (label, query): the query is sent as typed; the server folds it.
QUERIES = [
    ("Arabic, bare spelling", "احمد"),
    ("Arabic, with harakat", "أَحْمَد"),
    ("Arabic family name (inside the text)", "الشريف"),
    ("Latin prefix", "yasm"),
    ("e-mail fragment", "gulf-realty"),
    ("e-mail fragment, one person", "84242@"),
    ("1 character", "م"),
    ("3 characters", "kha"),
    ("no match (whole tenant read)", "zqxw"),
]


def person(i: int, rng: random.Random) -> tuple[str, str]:
    """(full name, e-mail) of user `i`: 60 % Arabic script, 40 % Latin."""
    if rng.random() < 0.6:
        spellings, first_latin = rng.choice(ARABIC_FIRST)
        last, last_latin = rng.choice(ARABIC_LAST)
        name = f"{rng.choice(spellings)} {last}"
    else:
        first_latin, last_latin = rng.choice(LATIN_FIRST), rng.choice(LATIN_LAST)
        name = f"{first_latin} {last_latin}"
    email = f"{first_latin.lower()}.{last_latin.lower()}{i}@{rng.choice(DOMAINS)}"
    return name, email


async def seed(
    owner_url: str, owner_libpq: str, users: int, contacts: int
) -> tuple[UUID, UUID, float]:
    """The tenant and its admin; `users` more people and `contacts` contacts (with a phone
    each, `bench/contacts.py`'s generator) COPYed in. Seconds spent copying."""
    engine = create_async_engine(owner_url)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug="bench-search", plan_code="DevPro")
    await engine.dispose()
    rng = random.Random(7)
    started = time.perf_counter()
    with psycopg.connect(owner_libpq, autocommit=True) as conn:
        columns = "tenant_id, id, email, full_name, locale, status, is_verified"
        with conn.cursor().copy(f"COPY users ({columns}) FROM STDIN") as copy:
            for i in range(users):
                name, email = person(i, rng)
                locale = "ar" if name[0] > "\u0600" else "en"
                copy.write_row((tenant.id, new_id(), email, name, locale, "active", True))
        load_contacts(owner_libpq, tenant, contacts)
        copied = time.perf_counter() - started
        conn.execute("VACUUM ANALYZE")  # what autovacuum keeps up in production
    return tenant.id, tenant.admin_id, copied


async def http_latencies(port: int, path: str, token: str, n: int) -> tuple[list[float], Any]:
    """`n` sequential GETs on one keep-alive connection; the last response's body."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out: list[float] = []
    body = b""
    for _ in range(n):
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        body = await reader.readexactly(length)
        out.append(time.perf_counter() - started)
    writer.close()
    return out, body


STEP = (
    "SELECT u.tenant_id, u.id, u.email, u.full_name, u.status FROM users u JOIN"
    " (SELECT id, search_text FROM users WHERE tenant_id = %(t)s AND {} LIMIT %(n)s) hit"
    " ON hit.id = u.id WHERE u.tenant_id = %(t)s ORDER BY hit.search_text, hit.id"
)
PREFIX = STEP.format("search_text >= %(q)s AND search_text < %(upper)s ORDER BY search_text, id")
INSIDE = STEP.format(
    "id >= %(window)s AND search_text LIKE %(like)s ESCAPE '/' AND NOT (search_text >= %(q)s"
    " AND search_text < %(upper)s) ORDER BY id DESC"
)
WINDOW = "SELECT id FROM users WHERE tenant_id = %(t)s ORDER BY id DESC OFFSET %(offset)s LIMIT 1"


def window_start(conn: psycopg.Connection[Any], tenant: UUID) -> UUID:
    row = conn.execute(WINDOW, {"t": tenant, "offset": SUBSTRING_WINDOW - 1}).fetchone()
    return row[0] if row else UUID(int=0)


def like_contains(folded: str) -> str:
    escaped = folded.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def raw_search(conn: psycopg.Connection[Any], tenant: UUID, folded: str, limit: int) -> int:
    """The repository's statements for one search, in one transaction; hits found."""
    params = {"t": tenant, "q": folded, "upper": prefix_upper_bound(folded), "n": limit}
    with conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
        found = len(conn.execute(PREFIX, params).fetchall())
        if found < limit and len(folded) >= SUBSTRING_MIN_CHARS:
            window = window_start(conn, tenant)
            params |= {"like": like_contains(folded), "n": limit - found, "window": window}
            found += len(conn.execute(INSIDE, params).fetchall())
    return found


def scan_nodes(conn: psycopg.Connection[Any], tenant: UUID, folded: str, limit: int) -> str:
    """How PostgreSQL reads `users` for each step, as the application role."""
    params = {"t": tenant, "q": folded, "upper": prefix_upper_bound(folded), "n": limit}
    params["like"] = like_contains(folded)
    steps = [("prefix", PREFIX)]
    if len(folded) >= SUBSTRING_MIN_CHARS:
        steps.append(("inside", INSIDE))
    found = []
    with conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant),))
        params["window"] = window_start(conn, tenant)
        for name, sql in steps:
            plan = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
            assert plan is not None
            found.append(f"{name}: {' > '.join(_scans(plan[0][0]['Plan']))}")
    return "; ".join(found)


def _scans(node: dict[str, Any]) -> list[str]:
    own = [node["Node Type"]] if "Scan" in node["Node Type"] else []
    return own + [s for child in node.get("Plans", []) for s in _scans(child)]


def start_server(owner_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": owner_url,
        "M3CRM_RATE_LIMIT_IP": "10000000/minute",
        "M3CRM_RATE_LIMIT_USER": "10000000/minute",
        "M3CRM_RATE_LIMIT_TENANT": "10000000/minute",
        "M3CRM_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "m3crm.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--no-access-log", "--loop", "uvloop", "--http", "httptools",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    register_modules()
    test_db = build_test_database("m3crm_bench_search")
    owner = test_db.urls.owner.render_as_string(hide_password=False)
    tenant, admin, copied = await seed(owner, test_db.urls.owner_libpq, args.users, args.contacts)
    token = mint_access_token(test_db.settings, tenant_id=tenant, user_id=admin)
    port = free_port()
    server = start_server(owner, port)
    rows = []
    try:
        await wait_for_port(port)
        with psycopg.connect(test_db.urls.app_libpq) as conn:
            for label, query in QUERIES:
                path = f"/v1/search?q={quote(query)}&limit=5"
                await http_latencies(port, path, token, 20)  # warm-up (and plan caching)
                server_times, body = await http_latencies(port, path, token, args.requests)
                folded = fold(query)
                raw = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    raw_search(conn, tenant, folded, 5)
                    raw.append(time.perf_counter() - started)
                hits = body.count(b'"id"')
                ratio = statistics.median(server_times) / statistics.median(raw)
                rows.append(
                    f"| {label} `{query}` | {hits} | {pct(server_times, 0.5):.2f} / "
                    f"{pct(server_times, 0.95):.2f} | {pct(raw, 0.5):.2f} / {pct(raw, 0.95):.2f}"
                    f" | {ratio:.1f}x | {scan_nodes(conn, tenant, folded, 5)} |"
                )
    finally:
        server.terminate()
        server.wait(timeout=10)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{args.users:,} users and {args.contacts:,} contacts copied in {copied:.1f} s;"
        f" {args.requests} requests per query (every provider: users, contacts, companies);"
    )
    print(f"load average at the end {load} on {os.cpu_count()} cores\n")
    print(
        "| query | hits | server p50 / p95 ms | users SQL p50 / p95 ms | ratio (p50) | users plan |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
