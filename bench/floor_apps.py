"""The least each layer of the stack costs per request, as ASGI apps for `bench/floor.py`.

Each app answers `GET /v1/runs/{run_id}` for the bench's tenant (`BENCH_TENANT_ID`) and
is a strict subset of what the product does for that request, so their costs are floors
under the product's, measured by the same server and load generator:

- `starlette_json`: uvicorn + Starlette, a constant JSON body (no database);
- `fastapi_json`: the same through FastAPI with one path parameter and a response model;
- `fastapi_psycopg`: FastAPI plus the same transaction straight on psycopg (a
  connection pool, no SQLAlchemy): what the driver alone costs;
- `fastapi_db`: FastAPI plus the request transaction the tenancy canon requires
  (SQLAlchemy async session on the app role: BEGIN, the tenant binding, the row by
  primary key under row-level security, COMMIT) and nothing else: no authentication,
  permissions, middleware, audit or error model.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, FastAPI
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.db.urls import resolve_urls
from m3crm.settings import Settings

_ROW = {"id": "00000000-0000-7000-8000-000000000000", "status": "queued", "progress": 0}


class RunRow(BaseModel):
    id: UUID
    status: str
    progress: int


async def _constant(request: Request) -> JSONResponse:
    return JSONResponse(_ROW)


def starlette_json() -> Starlette:
    return Starlette(routes=[Route("/v1/runs/{run_id}", _constant)])


def fastapi_json() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/runs/{run_id}", response_model=RunRow)
    async def get_run(run_id: UUID) -> dict[str, Any]:
        return {**_ROW, "id": run_id}

    return app


_SELECT_RUN = text(
    "SELECT id, status, progress_done AS progress FROM operation_runs"
    " WHERE tenant_id = :t AND id = :i"
)


def fastapi_db() -> FastAPI:
    settings = Settings()
    database = Database(resolve_urls(settings), pool_size=settings.db_pool_size)
    tenant_id = UUID(os.environ["BENCH_TENANT_ID"])
    app = FastAPI()

    async def session() -> AsyncIterator[AsyncSession]:
        async with database.sessions() as s, s.begin():
            await bind_tenant(s, tenant_id, None)
            yield s

    @app.get("/v1/runs/{run_id}", response_model=RunRow)
    async def get_run(run_id: UUID, s: Annotated[AsyncSession, Depends(session)]) -> Any:
        row = (await s.execute(_SELECT_RUN, {"t": tenant_id, "i": run_id})).one()
        return row._mapping

    return app


def fastapi_psycopg() -> FastAPI:
    settings = Settings()
    pool = AsyncConnectionPool(
        resolve_urls(settings).app_libpq,
        min_size=settings.db_pool_size,
        max_size=settings.db_pool_size,
        open=False,
    )
    tenant = str(UUID(os.environ["BENCH_TENANT_ID"]))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with pool:
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/runs/{run_id}", response_model=RunRow)
    async def get_run(run_id: UUID) -> Any:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(
                "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', '', true)",
                (tenant,),
            )
            cursor = await conn.execute(
                "SELECT id, status, progress_done FROM operation_runs"
                " WHERE tenant_id = %s AND id = %s",
                (tenant, run_id),
            )
            row = await cursor.fetchone()
        assert row is not None
        return {"id": row[0], "status": row[1], "progress": row[2]}

    return app
