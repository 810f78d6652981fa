"""Queued tasks of the notifications core."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from m3crm.kernel.runs.queue import blueprint
from m3crm.kernel.runs.worker import worker_database
from m3crm.modules.notify.delivery import SIMULATE_DELIVERY_TASK
from m3crm.modules.notify.providers import devstub
from m3crm.modules.notify.providers.base import DeliveryEvent, DeliveryStatus
from m3crm.modules.notify.webhooks import ingest


@blueprint.task(name=SIMULATE_DELIVERY_TASK, queue="runs")
async def simulate_delivery(tenant_id: str, provider_message_ids: list[str]) -> dict[str, Any]:
    """The DevStub's delivery report: "delivered" for each message, ingested exactly
    as a real provider's webhook would be (same storage, same idempotency)."""
    now = datetime.now(UTC)
    events = [
        DeliveryEvent(
            provider=devstub.NAME,
            event_id=f"{message_id}:delivered",
            provider_message_id=message_id,
            status=DeliveryStatus.DELIVERED,
            occurred_at=now,
        )
        for message_id in provider_message_ids
    ]
    summary = await ingest(
        worker_database(),
        devstub.NAME,
        events,
        headers={"x-simulated-by": "devstub"},
        payload={"tenant": tenant_id, "delivered": provider_message_ids},
    )
    return {"applied": summary.applied, "duplicates": summary.duplicates}
