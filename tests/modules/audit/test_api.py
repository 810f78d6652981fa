"""`/v1/admin/audit-logs` and its export, and the `/admin/audit` page."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.app import create_app
from m3crm.kernel.audit import AuditLog, EntityRef, record
from m3crm.kernel.auth import ACCESS_COOKIE, load_subject
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import new_id
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.audit.repository import AuditFilters
from m3crm.modules.audit.service import audit
from tests.conftest import World, error_code
from tests.factories import SeededTenant
from tests.live import serve

URL = "/v1/admin/audit-logs"
EXPORT = f"{URL}/export"


async def log(
    session: AsyncSession,
    tenant: SeededTenant,
    action: str,
    *,
    entity: EntityRef | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    subject = await load_subject(session, tenant.id, tenant.admin_id)
    assert subject is not None
    return await record(
        session, subject, action, entity or EntityRef("probe", "p-1"), before, after
    )


async def items(client: httpx.AsyncClient, world: World, query: str = "") -> list[dict[str, Any]]:
    r = await client.get(f"{URL}?limit=200&{query}", headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()["items"]
    return result


async def test_list_newest_first_with_diff_and_context(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    first = await log(session, world.a, "probe.created", after={"name": "x"})
    second = await log(
        session, world.a, "probe.updated", before={"name": "x", "n": 1}, after={"name": "y", "n": 1}
    )
    found = await items(client, world, "entity_type=probe")
    assert [i["id"] for i in found[:2]] == [str(second.id), str(first.id)]
    assert found[0]["before"] == {"name": "x"} and found[0]["after"] == {"name": "y"}
    assert found[0]["actor_user_id"] == str(world.a.admin_id)
    assert {"ip_address", "user_agent", "request_id", "occurred_at"} <= found[0].keys()


async def test_filters_exact_prefix_actor_entity_and_time(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    a = await log(session, world.a, "probe.one", entity=EntityRef("probe", "e-1"))
    b = await log(session, world.a, "probe.two", entity=EntityRef("probe", "e-2"))
    c = await log(session, world.a, "probeX.one", entity=EntityRef("other", "e-1"))
    ids = lambda rows: {r["id"] for r in rows}  # noqa: E731
    assert ids(await items(client, world, "action=probe.one")) >= {str(a.id)}
    assert str(b.id) not in ids(await items(client, world, "action=probe.one"))
    prefixed = ids(await items(client, world, "action=probe.*"))
    assert {str(a.id), str(b.id)} <= prefixed and str(c.id) not in prefixed
    assert ids(await items(client, world, "entity_type=probe&entity_id=e-2")) == {str(b.id)}
    assert str(c.id) in ids(await items(client, world, "entity_type=other"))
    by_actor = ids(await items(client, world, f"actor_user_id={world.a.admin_id}&action=probe*"))
    assert {str(a.id), str(b.id), str(c.id)} <= by_actor
    assert await items(client, world, f"actor_user_id={world.a.member_id}&action=probe*") == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    q = httpx.QueryParams({"from": past, "to": future, "entity_type": "probe"})
    assert {str(a.id), str(b.id)} <= ids(await items(client, world, str(q)))
    q = httpx.QueryParams({"from": future, "entity_type": "probe"})
    assert await items(client, world, str(q)) == []
    naive = httpx.QueryParams({"to": "2000-01-01T00:00:00", "entity_type": "probe"})
    assert await items(client, world, str(naive)) == []


async def test_prefix_wildcards_are_literal(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await log(session, world.a, "probe_x.one")
    # `_` is a LIKE wildcard: it must match itself only.
    assert await items(client, world, "action=probe_.*") == []
    assert len(await items(client, world, "action=probe_x.*")) == 1


async def test_seek_pagination_walks_every_row_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    made = {str((await log(session, world.a, "probe.page")).id) for _ in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        url = f"{URL}?limit=3&action=probe.page" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=world.headers(world.a))).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == made and len(seen) == len(made)
    assert seen == sorted(seen, key=UUID, reverse=True)


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2024-13-01T00:00:00Z",
        "actor_user_id=nope",
        "action=user.*.x",
        "action=",
        "entity_type=a%20b",
        "from=0001-01-01T00:00:00%2B05:00",
    ],
)
async def test_bad_filters_are_422(client: httpx.AsyncClient, world: World, query: str) -> None:
    for url in (URL, EXPORT):
        r = await client.get(f"{url}?{query}", headers=world.headers(world.a))
        assert r.status_code == 422, url
        assert error_code(r) == "VALIDATION_ERROR"


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "cursor=short"])
async def test_bad_paging_is_422(client: httpx.AsyncClient, world: World, query: str) -> None:
    r = await client.get(f"{URL}?{query}", headers=world.headers(world.a))
    assert r.status_code == 422


async def test_bad_export_format_is_422(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(f"{EXPORT}?format=xml", headers=world.headers(world.a))
    assert r.status_code == 422


async def test_anonymous_401_and_member_403(client: httpx.AsyncClient, world: World) -> None:
    for url in (URL, EXPORT):
        assert (await client.get(url)).status_code == 401
        r = await client.get(url, headers=world.headers(world.a, "member"))
        assert r.status_code == 403 and error_code(r) == "PERMISSION_DENIED"
        r = await client.get(url, headers=world.headers(world.a, "agent"))
        assert r.status_code == 403


async def test_other_tenant_sees_none_of_a_rows(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    mine = await log(session, world.a, "probe.secret")
    r = await client.get(f"{URL}?limit=200", headers=world.headers(world.b))
    assert r.status_code == 200
    assert str(mine.id) not in {i["id"] for i in r.json()["items"]}
    r = await client.get(f"{EXPORT}?action=probe.secret", headers=world.headers(world.b))
    assert r.status_code == 200 and r.text == ""
    r = await client.get(f"/admin/audit/{mine.id}", headers=cookie(world, tenant=world.b))
    assert r.status_code == 404


async def test_export_jsonl(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    row = await log(
        session,
        world.a,
        "probe.export",
        before={"a": 1},
        after={"a": "ب"},
        entity=EntityRef("probe", "z"),
    )
    r = await client.get(
        f"{EXPORT}?format=jsonl&action=probe.export", headers=world.headers(world.a)
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert r.headers["content-disposition"].startswith("attachment;")
    lines = r.text.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["id"] == str(row.id) and entry["action"] == "probe.export"
    assert entry["before_data"] == {"a": 1} and entry["after_data"] == {"a": "ب"}
    assert entry["actor_user_id"] == str(world.a.admin_id) and entry["entity_id"] == "z"


async def test_export_csv_has_header_and_json_diff_cells(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    row = await log(
        session, world.a, "probe.csv", before={"k": "a,b"}, after={"k": 'say "hi"\nthere'}
    )
    r = await client.get(f"{EXPORT}?format=csv&action=probe.csv", headers=world.headers(world.a))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert ".csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1
    assert rows[0]["id"] == str(row.id)
    assert json.loads(rows[0]["before_data"]) == {"k": "a,b"}
    assert json.loads(rows[0]["after_data"]) == {"k": 'say "hi"\nthere'}
    assert rows[0]["entity_id"] == "p-1"


async def test_export_is_audited_with_its_filters(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(f"{EXPORT}?format=csv&action=probe.*", headers=world.headers(world.a))
    assert r.status_code == 200
    found = await items(client, world, "action=audit.exported")
    assert found[0]["after"] == {"format": "csv", "filters": {"action": "probe.*"}}
    assert found[0]["actor_user_id"] == str(world.a.admin_id)
    assert found[0]["entity_type"] == "audit_logs"


async def test_export_streams_thousands_of_rows(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    count = 5000
    await session.execute(
        insert(AuditLog),
        [
            {
                "tenant_id": world.a.id,
                "id": new_id(),
                "action": "probe.bulk",
                "entity_type": "probe",
                "entity_id": str(i),
                "after_data": {"i": i},
            }
            for i in range(count)
        ],
    )
    r = await client.get(f"{EXPORT}?format=jsonl&action=probe.bulk", headers=world.headers(world.a))
    assert r.status_code == 200 and len(r.text.splitlines()) == count
    r = await client.get(f"{EXPORT}?format=csv&action=probe.bulk", headers=world.headers(world.a))
    assert len(r.text.splitlines()) == count + 1
    # The body is produced chunk by chunk from the cursor, never as one string.
    subject = await load_subject(session, world.a.id, world.a.admin_id)
    assert subject is not None
    body = await audit.export(
        session, subject, AuditFilters(action="probe.bulk"), "jsonl", chunk_size=1000
    )
    sizes = [chunk.count("\n") async for chunk in body]
    assert sizes == [1000] * 5


def cookie(world: World, user: str = "admin", tenant: SeededTenant | None = None) -> dict[str, str]:
    tenant = tenant or world.a
    token = mint_access_token(
        world.settings, tenant_id=tenant.id, user_id=getattr(tenant, f"{user}_id")
    )
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}


async def test_page_lists_filters_and_shows_diff_side_by_side(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    row = await log(
        session, world.a, "probe.page_view", before={"stage": "old"}, after={"stage": "new"}
    )
    await log(session, world.a, "other.thing")
    r = await client.get("/admin/audit?action=probe.*&from=&to=", headers=cookie(world))
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'data-testid="audit-table"' in r.text and "probe.page_view" in r.text
    assert "other.thing" not in r.text
    assert "/v1/admin/audit-logs/export?action=probe.%2A&amp;format=csv" in r.text
    detail = await client.get(
        f"/admin/audit/{row.id}", headers={**cookie(world), "HX-Request": "true"}
    )
    assert detail.status_code == 200 and 'data-testid="audit-diff"' in detail.text
    assert "old" in detail.text and "new" in detail.text
    assert detail.text.index("old") < detail.text.index("new")


async def test_page_reports_bad_filters_beside_fields_and_guards(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get("/admin/audit?from=soon&action=a*b", headers=cookie(world, "admin"))
    assert r.status_code == 200
    assert r.text.count('aria-invalid="true"') == 2
    r = await client.get("/admin/audit", headers=cookie(world, "agent"))
    assert r.status_code == 403
    r = await client.get("/admin/audit", headers={"Accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fadmin%2Faudit"


async def test_page_hides_export_without_export_permission(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    await session.execute(
        text(
            "DELETE FROM role_permissions WHERE tenant_id = :t AND permission_code = 'audit.export'"
            " AND role_id = (SELECT id FROM roles WHERE tenant_id = :t AND code = 'admin')"
        ),
        {"t": world.a.id},
    )
    r = await client.get("/admin/audit", headers=cookie(world))
    assert r.status_code == 200 and 'data-testid="audit-export"' not in r.text
    r = await client.get(EXPORT, headers=world.headers(world.a))
    assert r.status_code == 403


def test_export_streams_over_a_real_server_and_commits_its_audit(world: World) -> None:
    """With the request's own transaction (no test override): the body is read while
    the session is open, and the `audit.exported` row is committed afterwards."""
    query = {"format": "jsonl", "action": "audit.exported", "entity_type": "audit_logs"}
    with serve(create_app(world.settings)) as base_url, httpx.Client(base_url=base_url) as http:
        headers = world.headers(world.a)
        with http.stream("GET", EXPORT, params=query, headers=headers) as first:
            assert first.status_code == 200
            assert first.headers.get("transfer-encoding") == "chunked"
            before = [json.loads(line) for line in first.iter_lines() if line]
        after = [
            json.loads(line)
            for line in http.get(EXPORT, params=query, headers=headers).text.splitlines()
        ]
    assert len(after) >= len(before) + 1
    assert after[0]["after_data"]["filters"] == {
        "action": "audit.exported",
        "entity_type": "audit_logs",
    }
