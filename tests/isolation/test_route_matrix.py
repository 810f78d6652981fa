"""Isolation matrix (ARCHITECTURE §8): every route, two tenants.

Walks the app's route table. For each `/v1` route with path parameters, tenant B's
admin calls it with tenant A's ids and must get 404 (never 2xx), and A's row must be
unchanged. Writes carry an empty JSON body, so a route must find (or not find) the
row before it insists on fields. A new route whose parameter has no id maker below fails this test, so new
routes are covered (or consciously listed) automatically.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import World
from tests.modules.access.helpers import edge_ref, group_ref
from tests.modules.contacts.helpers import (
    channel_ref,
    company_ref,
    contact_ref,
    field_ref,
    import_ref,
    link_ref,
    segment_ref,
)
from tests.modules.identity.helpers import make_invite, make_session
from tests.modules.notify.helpers import make_entry, make_message, make_template, make_user_ref
from tests.modules.runs.test_api import failed_run

IdMaker = Callable[[AsyncSession, FastAPI, World], Awaitable[tuple[UUID, str]]]


async def make_run(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    """A failed run: the state in which every run route would act."""
    run = await failed_run(session, app, world.a)
    return run.id, "operation_runs"


async def make_role(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    """Tenant A's `admin` role."""
    await session.execute(
        text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(world.a.id)}
    )
    role_id = await session.scalar(
        text("SELECT id FROM roles WHERE tenant_id = :t AND code = 'admin'"), {"t": world.a.id}
    )
    assert isinstance(role_id, UUID)
    return role_id, "roles"


async def _dictionary_ref(session: AsyncSession, world: World, table: str) -> tuple[UUID, str]:
    """An own entry of tenant A in a coded dictionary."""
    await session.execute(
        text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(world.a.id)}
    )
    row_id = await session.scalar(
        text(
            f"INSERT INTO {table} (id, tenant_id, code, label_en, label_ar)"
            " VALUES (gen_random_uuid(), :t, :c, 'A', 'A') RETURNING id"
        ),
        {"t": world.a.id, "c": f"c{uuid4().hex[:12]}"},
    )
    assert isinstance(row_id, UUID)
    return row_id, table


async def make_job_title(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return await _dictionary_ref(session, world, "job_title_codes")


async def make_department(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return await _dictionary_ref(session, world, "department_codes")


ID_MAKERS: dict[str, IdMaker] = {
    "run_id": make_run,
    "message_id": make_message,
    "entry_id": make_entry,
    "template_id": make_template,
    "user_id": make_user_ref,
    "role_id": make_role,
    "session_id": make_session,
    "invite_id": make_invite,
    "contact_id": contact_ref,
    "channel_id": channel_ref,
    "company_id": company_ref,
    "segment_id": segment_ref,
    "field_id": field_ref,
    "import_id": import_ref,
    "link_id": link_ref,
    "group_id": group_ref,
    "edge_id": edge_ref,
    "job_title_id": make_job_title,
    "department_id": make_department,
}


def tenant_routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """Every `/v1` operation with path parameters, read from the OpenAPI document (the
    route table as the API publishes it; `/v1` routes are never hidden from it)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if path.startswith("/v1/") and params:
            found += [(method.upper(), path, params) for method in sorted(operations)]
    return found


async def snapshot(session: AsyncSession, table: str, tenant: UUID, row_id: UUID) -> Any:
    await session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
    row = await session.execute(
        text(f"SELECT to_jsonb(t) FROM {table} t WHERE tenant_id = :t AND id = :i"),
        {"t": tenant, "i": row_id},
    )
    return row.scalar_one()


async def test_every_route_hides_other_tenant_rows(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    routes = tenant_routes(app)
    assert routes, "no tenant routes found"
    for method, path, params in routes:
        missing = [p for p in params if p not in ID_MAKERS]
        assert not missing, f"{method} {path}: add an id maker for {missing}"
        ids: dict[str, str] = {}
        rows: list[tuple[str, UUID]] = []
        for param in params:
            row_id, table = await ID_MAKERS[param](session, app, world)
            ids[param] = str(row_id)
            rows.append((table, row_id))
        before = [await snapshot(session, t, world.a.id, i) for t, i in rows]
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = await client.request(
            method, path.format(**ids), headers=world.headers(world.b), json=body
        )
        assert response.status_code == 404, f"{method} {path} → {response.status_code}"
        after = [await snapshot(session, t, world.a.id, i) for t, i in rows]
        assert before == after, f"{method} {path} changed tenant A's data"
