"""Notifications benchmark: outbox throughput of one pump, and dispatch API latency.

1. Outbox throughput. Fake Brevo and Infobip run in a separate process on loopback
   (`bench/fake_providers.py`). N e-mails are queued, then one `DeliveryPump` in this
   process drains them; then M SMS with mirroring (SMS + e-mail + inbox rows per SMS;
   the inbox row is written at dispatch, the pump sends the other two). The fakes report
   how many distinct messages they accepted and how many repeats they saw.
2. Dispatch API. One uvicorn process serves the app; 32 keep-alive connections POST
   `/v1/notify/dispatch` (distinct e-mails, so none is deduplicated) for a few seconds.

Usage: `.venv/bin/python bench/notify.py [--emails 3000] [--sms 1000] [--seconds 8]`
Prints Markdown tables; `docs/PERFORMANCE.md` records the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from uuid import UUID

import uvloop
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kernel import pct  # noqa: E402
from bench.server import cpu_seconds, running_server, wait_for_port  # noqa: E402
from m3crm.app import register_modules  # noqa: E402
from m3crm.kernel.db.session import Database  # noqa: E402
from m3crm.kernel.ids import TenantId  # noqa: E402
from m3crm.kernel.ratelimit import RateLimiter  # noqa: E402
from m3crm.kernel.tokens import mint_access_token  # noqa: E402
from m3crm.modules.notify.delivery import DeliveryPump  # noqa: E402
from m3crm.modules.notify.dispatch import DispatchRequest, Notifier  # noqa: E402
from m3crm.modules.notify.models import Channel, MessageStatus, OutboxMessage  # noqa: E402
from m3crm.modules.notify.providers.registry import ProviderFactory  # noqa: E402
from m3crm.modules.notify.throttle import Throttle  # noqa: E402
from m3crm.settings import Settings  # noqa: E402
from tests.factories import make_tenant  # noqa: E402
from tests.harness import build_test_database  # noqa: E402
from tests.live import free_port  # noqa: E402


class Sender:
    def __init__(self, tenant_id: TenantId, user_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id


def fake_stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats") as answer:
        stats: dict[str, Any] = json.loads(answer.read())
        return stats


async def queue(
    db: Database, notifier: Notifier, sender: Sender, requests: list[DispatchRequest]
) -> None:
    for start in range(0, len(requests), 200):
        async with db.transaction(sender.tenant_id, sender.user_id) as session:
            for req in requests[start : start + 200]:
                await notifier.dispatch(session, sender, req)


async def drain_timed(pump: DeliveryPump, db: Database, tenant: TenantId) -> tuple[float, int]:
    started = time.perf_counter()
    handled = await pump.drain(tenant)
    elapsed = time.perf_counter() - started
    async with db.transaction(tenant) as session:
        unsent = (
            await session.execute(
                select(func.count()).where(OutboxMessage.status == MessageStatus.QUEUED)
            )
        ).scalar_one()
    if unsent:
        raise RuntimeError(f"{unsent} messages left queued")
    return elapsed, handled


async def throughput(
    db: Database, settings: Settings, sender: Sender, emails: int, sms: int, ports: tuple[int, int]
) -> list[tuple[str, str]]:
    brevo_port, infobip_port = ports
    configured = settings.model_copy(
        update={
            "notify_email_provider": "brevo",
            "brevo_api_key": SecretStr("bench"),
            "brevo_base_url": f"http://127.0.0.1:{brevo_port}",
            "notify_sms_provider": "infobip",
            "infobip_api_key": SecretStr("bench"),
            "infobip_base_url": f"http://127.0.0.1:{infobip_port}",
        }
    )
    notifier = Notifier(Throttle(RateLimiter(configured), {}))
    await queue(
        db,
        notifier,
        sender,
        [
            DispatchRequest(
                channel=Channel.EMAIL,
                to=f"buyer{n}@example.com",
                family="auth.verify_email",
                payload={"verify_url": f"https://crm.example.com/v/{n}"},
            )
            for n in range(emails)
        ],
    )
    factory = ProviderFactory(configured)
    pump = DeliveryPump(db, configured, factory)
    email_seconds, email_handled = await drain_timed(pump, db, sender.tenant_id)
    await queue(
        db,
        notifier,
        sender,
        [
            DispatchRequest(
                channel=Channel.SMS,
                to="+201001234567",
                family="otp.verify_phone",
                payload={"code": f"{n:06d}"},
                recipient_user_id=sender.user_id,
            )
            for n in range(sms)
        ],
    )
    sms_seconds, sms_handled = await drain_timed(pump, db, sender.tenant_id)
    await factory.close()
    brevo, infobip = fake_stats(brevo_port), fake_stats(infobip_port)
    return [
        ("e-mails sent by one pump", f"{email_handled} in {email_seconds:.2f} s"),
        ("e-mail throughput", f"{email_handled / email_seconds:,.0f} messages/s"),
        (
            "mirrored SMS: rows (SMS + e-mail + inbox)",
            f"{sms * 3} rows; pump sent {sms_handled} in {sms_seconds:.2f} s",
        ),
        ("mirrored SMS throughput (rows the pump sent)", f"{sms_handled / sms_seconds:,.0f}/s"),
        ("mirrored SMS throughput (SMS fully fanned out)", f"{sms / sms_seconds:,.0f} SMS/s"),
        (
            "provider side: distinct accepted / repeats",
            f"Brevo {brevo['accepted']} / {brevo['duplicates']}, "
            f"Infobip {infobip['accepted']} / {infobip['duplicates']}",
        ),
        ("expected distinct", f"Brevo {emails + sms}, Infobip {sms}"),
    ]


async def dispatch_load(port: int, token: str, seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop_at:
            body = json.dumps(
                {
                    "channel": "email",
                    "to": f"lead{next(counter)}@example.com",
                    "family": "auth.verify_email",
                    "payload": {"verify_url": "https://crm.example.com/v"},
                }
            ).encode()
            request = (
                f"POST /v1/notify/dispatch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 202"):
                raise RuntimeError(head.decode(errors="replace"))
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies


async def api_latency(
    owner_url: str, token: str, seconds: float, concurrency: int, workers: int, profile: Path | None
) -> list[tuple[str, str]]:
    port = free_port()
    env = {
        "DATABASE_URL": owner_url,
        "M3CRM_NOTIFY_THROTTLE_PER_MINUTE": json.dumps({"email": 10_000_000}),
        "M3CRM_DB_POOL_SIZE": str(concurrency),
    }
    async with running_server(port, env, workers=workers, profile=profile) as pid:
        await dispatch_load(port, token, 2.0, concurrency)  # warm-up
        cpu_before = cpu_seconds(pid)
        loaded = await dispatch_load(port, token, seconds, concurrency)
        server_cpu = (cpu_seconds(pid) - cpu_before) / len(loaded)
        single = await dispatch_load(port, token, 3.0, 1)
    return [
        (f"dispatch throughput at {concurrency} clients", f"{len(loaded) / seconds:,.0f} req/s"),
        (
            f"dispatch p50 / p95 at {concurrency} clients",
            f"{pct(loaded, 0.5):.2f} / {pct(loaded, 0.95):.2f} ms",
        ),
        (f"server CPU per dispatch at {concurrency} clients", f"{server_cpu * 1000:.2f} ms"),
        (
            "dispatch p50 / p95 at 1 client (server time)",
            f"{pct(single, 0.5):.2f} / {pct(single, 0.95):.2f} ms",
        ),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=3000)
    parser.add_argument("--sms", type=int, default=450)  # DevPro caps SMS at 500 a month
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server processes (dispatch API)")
    parser.add_argument("--profile", type=Path, help="cProfile the API server into this file")
    args = parser.parse_args()

    register_modules()
    test_db = build_test_database("m3crm_bench_notify")
    owner = test_db.urls.owner.render_as_string(hide_password=False)
    engine = create_async_engine(owner)
    async with AsyncSession(engine) as session, session.begin():
        tenant = await make_tenant(session, slug="bench", plan_code="DevPro")
    await engine.dispose()
    sender = Sender(tenant.id, tenant.admin_id)
    settings = test_db.settings.model_copy(
        update={"notify_batch_size": 500, "notify_send_concurrency": args.in_flight}
    )

    ports = (free_port(), free_port())
    fakes = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        [sys.executable, str(ROOT / "bench" / "fake_providers.py"), *map(str, ports)], cwd=ROOT
    )
    db = Database(test_db.urls, pool_size=4)
    try:
        await wait_for_port(ports[0])
        await wait_for_port(ports[1])
        outbox = await throughput(db, settings, sender, args.emails, args.sms, ports)
    finally:
        fakes.terminate()
        fakes.wait(timeout=10)
        await db.dispose()
    token = mint_access_token(test_db.settings, tenant_id=tenant.id, user_id=tenant.admin_id)
    api = await api_latency(
        owner, token, args.seconds, args.concurrency, args.workers, args.profile
    )
    print("| measure | value |\n|---|---|")
    for name, value in (*outbox, *api):
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    uvloop.run(main())
