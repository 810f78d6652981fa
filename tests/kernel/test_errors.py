"""The error model: bad input never yields a 500 or a stack trace."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World, error_code


async def test_anonymous_is_401_with_error_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/runs", headers={"X-Request-Id": "req-abc-123"})
    assert r.status_code == 401
    body = r.json()["error"]
    assert body["code"] == "AUTH_INVALID_CREDENTIALS"
    assert body["request_id"] == "req-abc-123"
    assert r.headers["x-request-id"] == "req-abc-123"


async def test_request_id_generated_when_absent_or_invalid(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] != "bad id with spaces"
    assert len(r.headers["x-request-id"]) == 32


async def test_garbage_and_expired_tokens_are_401(client: httpx.AsyncClient, world: World) -> None:
    from datetime import timedelta

    from m3crm.kernel.tokens import mint_access_token

    for token in ("garbage", "a.b.c", ""):
        r = await client.get("/v1/runs", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    expired = mint_access_token(
        world.settings, tenant_id=world.a.id, user_id=world.a.admin_id, lifetime=timedelta(-1)
    )
    r = await client.get("/v1/runs", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401


async def test_token_with_wrong_algorithm_is_401(client: httpx.AsyncClient, world: World) -> None:
    import jwt

    forged = jwt.encode(
        {"sub": str(world.a.admin_id), "tid": str(world.a.id)}, key="", algorithm="none"
    )
    r = await client.get("/v1/runs", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


@pytest.mark.parametrize("change", ["jwt_issuer", "jwt_audience", "jwt_secret"])
async def test_token_of_another_issuer_audience_or_key_is_401(
    client: httpx.AsyncClient, world: World, change: str
) -> None:
    """Each verification parameter on its own: a token minted with only it different."""
    other = {
        "jwt_issuer": "https://someone-else.example",
        "jwt_audience": "someone-else",
        "jwt_secret": SecretStr("another-secret-0123456789abcdef0123456789"),
    }[change]
    minted_by = world.settings.model_copy(update={change: other})
    token = mint_access_token(minted_by, tenant_id=world.a.id, user_id=world.a.admin_id)
    refused = await client.get("/v1/runs", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert error_code(refused) == "AUTH_INVALID_CREDENTIALS"
    genuine = mint_access_token(world.settings, tenant_id=world.a.id, user_id=world.a.admin_id)
    accepted = await client.get("/v1/runs", headers={"Authorization": f"Bearer {genuine}"})
    assert accepted.status_code == 200


async def test_bad_uuid_is_422_with_field(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/v1/runs/not-a-uuid", headers=world.headers(world.a))
    assert r.status_code == 422
    assert error_code(r) == "VALIDATION_ERROR"
    assert "run_id" in r.json()["error"]["details"]["fields"]


async def test_wrong_types_in_query_are_422(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/v1/runs?limit=abc&status=bogus", headers=world.headers(world.a))
    assert r.status_code == 422
    fields = r.json()["error"]["details"]["fields"]
    assert {"limit", "status"} <= set(fields)


async def test_tampered_cursor_is_422(client: httpx.AsyncClient, world: World) -> None:
    for cursor in ("%%%", "bm90LWpzb24", "WzFd", "A" * 23):
        r = await client.get(f"/v1/runs?cursor={cursor}", headers=world.headers(world.a))
        assert r.status_code == 422, cursor
        assert "cursor" in r.json()["error"]["details"]["fields"]


async def test_malformed_json_body_is_422(client: httpx.AsyncClient, world: World) -> None:
    rid = "01900000-0000-7000-8000-000000000000"
    r = await client.post(
        f"/v1/runs/{rid}/requeue",
        content=b"{not json",
        headers={**world.headers(world.a), "Content-Type": "application/json"},
    )
    assert r.status_code in (404, 422)
    assert r.status_code != 500


async def test_oversize_body_is_413(client: httpx.AsyncClient, world: World) -> None:
    rid = "01900000-0000-7000-8000-000000000000"
    r = await client.post(
        f"/v1/runs/{rid}/requeue",
        content=b"x" * (world.settings.max_body_bytes + 1),
        headers=world.headers(world.a),
    )
    assert r.status_code == 413
    assert error_code(r) == "PAYLOAD_TOO_LARGE"


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/does-not-exist")
    assert r.status_code == 404
    assert error_code(r) == "NOT_FOUND"


async def test_html_errors_are_pages_without_trace(client: httpx.AsyncClient) -> None:
    r = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text


async def test_nul_in_the_address_is_422_not_500(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/v1/runs?type=%00abc", headers=world.headers(world.a))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
