"""HTML screens of the contacts capability: one router made of its parts (the fixed
paths — merge, imports, segments — come before `/contacts/{id}`)."""

from __future__ import annotations

from fastapi import APIRouter

from m3crm.modules.contacts import (
    web_channels,
    web_companies,
    web_contacts,
    web_followers,
    web_imports,
    web_merge,
    web_segments,
)

router = APIRouter()
for part in (
    web_merge,
    web_imports,
    web_segments,
    web_channels,
    web_followers,
    web_contacts,
    web_companies,
):
    router.include_router(part.router)
