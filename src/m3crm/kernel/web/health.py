"""`/healthz` (process alive), `/readyz` (database reachable, migrations at head), `/metrics`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.responses import Response

from m3crm.kernel.auth import get_database
from m3crm.kernel.db.session import Database
from m3crm.kernel.errors import Unavailable

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    revision: str | None = None


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "Not ready"}})
async def readyz(request: Request, db: Annotated[Database, Depends(get_database)]) -> Health:
    expected: str | None = request.app.state.migration_head
    try:
        async with db.engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception as exc:
        raise Unavailable("The database is not reachable.") from exc
    if current != expected:
        raise Unavailable(
            "Database migrations are not at head.",
            details={"current": current, "expected": expected},
        )
    return Health(status="ready", revision=current)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
