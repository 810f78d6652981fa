"""Pages of the identity capability: one router made of its parts."""

from __future__ import annotations

from fastapi import APIRouter

from m3crm.modules.identity import (
    web_auth,
    web_invites,
    web_profile,
    web_security,
    web_settings,
    web_user_detail,
    web_users,
)

router = APIRouter(include_in_schema=False)
# `web_invites` before `web_user_detail`: `/admin/users/invites` must not reach
# `/admin/users/{id}`.
for part in (
    web_auth,
    web_security,
    web_profile,
    web_settings,
    web_invites,
    web_users,
    web_user_detail,
):
    router.include_router(part.router)
