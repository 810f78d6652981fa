"""Health, readiness, metrics, OpenAPI, rate limits, JSON logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import structlog
from fastapi import FastAPI

from m3crm.kernel.logging import configure_logging
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.settings import Settings
from tests.conftest import World, error_code


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "revision": None}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_readyz_is_503_when_migrations_lag(client: httpx.AsyncClient, app: FastAPI) -> None:
    head = app.state.migration_head
    app.state.migration_head = "9999"
    try:
        r = await client.get("/readyz")
    finally:
        app.state.migration_head = head
    assert r.status_code == 503
    assert error_code(r) == "UNAVAILABLE"


async def test_metrics_and_openapi(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    metrics = await client.get("/metrics")
    assert 'm3crm_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text
    spec = (await client.get("/openapi.json")).json()
    assert "/v1/runs/{run_id}" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_rate_limits_answer_429_with_retry_after(settings: Settings, world: World) -> None:
    from m3crm.kernel.errors import RateLimited

    limiter = RateLimiter(settings.model_copy(update={"rate_limit_user": "2/minute"}))
    await limiter.hit_subject("t", "u")
    await limiter.hit_subject("t", "u")
    with pytest.raises(RateLimited) as caught:
        await limiter.hit_subject("t", "u")
    assert caught.value.status_code == 429
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 61
    await limiter.hit_subject("t", "other-user")  # keys are per user


async def test_ip_limit_through_the_app(client: httpx.AsyncClient, app: FastAPI) -> None:
    limiter = app.state.limiter
    original = (limiter.limits, limiter.storage, limiter.limiter)
    tight = RateLimiter(app.state.settings.model_copy(update={"rate_limit_ip": "1/minute"}))
    limiter.limits, limiter.storage, limiter.limiter = tight.limits, tight.storage, tight.limiter
    try:
        await client.get("/healthz")
        r = await client.get("/healthz")
    finally:
        limiter.limits, limiter.storage, limiter.limiter = original
    assert r.status_code == 429
    assert error_code(r) == "RATE_LIMIT"
    assert "retry-after" in r.headers


def test_log_lines_are_json_with_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    structlog.contextvars.bind_contextvars(request_id="r-9", tenant_id="t-1", user_id="u-1")
    structlog.get_logger("test").info("hello")
    logging.getLogger("procrastinate.test").info("from stdlib")
    structlog.contextvars.clear_contextvars()
    configure_logging("WARNING", json=False)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert lines[0]["event"] == "hello" and lines[0]["request_id"] == "r-9"
    assert lines[0]["tenant_id"] == "t-1" and lines[0]["user_id"] == "u-1"
    assert lines[1]["event"] == "from stdlib" and lines[1]["request_id"] == "r-9"


async def test_redis_backed_limits_are_shared(settings: Settings) -> None:
    """With `REDIS_URL`, two limiters (two processes) count against one window."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from uuid import uuid4

    from m3crm.kernel.errors import RateLimited

    shared = settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:6379/15", "rate_limit_user": "2/minute"}
    )
    first, second = RateLimiter(shared), RateLimiter(shared)
    user = uuid4().hex
    await first.hit_subject("t", user)
    await second.hit_subject("t", user)
    with pytest.raises(RateLimited):
        await first.hit_subject("t", user)
