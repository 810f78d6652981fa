"""JSON API of the identity capability: one router made of its parts."""

from __future__ import annotations

from fastapi import APIRouter

from m3crm.modules.identity import (
    api_auth,
    api_invites,
    api_phone,
    api_settings,
    api_twofa,
    api_user_preferences,
    api_users,
)

router = APIRouter()
for part in (
    api_auth,
    api_invites,
    api_twofa,
    api_phone,
    api_settings,
    api_users,
    api_user_preferences,
):
    router.include_router(part.router)
router.include_router(api_users.seats_router)
