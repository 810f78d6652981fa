"""Pages of the access capability: one router made of its parts."""

from __future__ import annotations

from fastapi import APIRouter

from m3crm.modules.access import (
    web_entitlements,
    web_groups,
    web_requests,
    web_role_editor,
    web_roles,
)

router = APIRouter(include_in_schema=False)
# `web_roles` first: its fixed paths (`/admin/roles/hierarchy`) before `{role_id}`.
for part in (web_requests, web_roles, web_role_editor, web_groups, web_entitlements):
    router.include_router(part.router)
