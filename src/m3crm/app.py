"""Application factory: middleware, error handlers, and every router."""

from __future__ import annotations

from fastapi import FastAPI

from m3crm.settings import Settings, get_settings
from m3crm.web import pages


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app. Constructing it opens no database connection."""
    settings = settings or get_settings()
    app = FastAPI(title="M3CoreCRM", version="0.1.0")
    app.state.settings = settings
    pages.mount_static(app)
    app.include_router(pages.router)
    return app
