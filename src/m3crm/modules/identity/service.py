"""Wiring of the identity capability into the kernel."""

from __future__ import annotations

from m3crm.kernel.auth import register_session_check
from m3crm.modules.identity.search import USERS_PROVIDER
from m3crm.modules.identity.sessions import is_live
from m3crm.modules.search.registry import register_search_provider


def register() -> None:
    register_session_check(is_live)
    register_search_provider(USERS_PROVIDER)
