"""Prometheus metrics of the notifications core (spec §2.12), served at `/metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DISPATCHED = Counter(
    "m3crm_notify_dispatched_total", "Messages queued by dispatch.", ["channel", "type"]
)
SENT = Counter(
    "m3crm_notify_sent_total", "Messages accepted by a provider.", ["channel", "provider"]
)
FAILURES = Counter(
    "m3crm_notify_failures_total",
    "Failed provider calls, retried or dead-lettered.",
    ["channel", "error_code", "final"],
)
SEND_LATENCY = Histogram(
    "m3crm_notify_send_seconds",
    "Seconds from a message falling due to its provider accepting it.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
QUEUE_DEPTH = Gauge("m3crm_notify_queue_depth", "Queued messages due now, all tenants.")
DELIVERY_EVENTS = Counter(
    "m3crm_notify_delivery_events_total", "Provider webhook events applied.", ["provider", "status"]
)
