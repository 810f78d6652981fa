"""JSON API of the contacts capability: one router made of its parts."""

from __future__ import annotations

from fastapi import APIRouter

from m3crm.modules.contacts import (
    api_channels,
    api_companies,
    api_contacts,
    api_followers,
    api_imports,
    api_segments,
)

router = APIRouter()
for part in (
    api_imports,
    api_contacts,
    api_channels,
    api_followers,
    api_companies,
    api_segments,
):
    router.include_router(part.router)
