"""Provisional pages (being replaced)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home() -> str:
    return "<!doctype html><html lang='en' dir='ltr'><body><h1>M3CoreCRM</h1></body></html>"


def mount_static(app: FastAPI) -> None:
    return None
