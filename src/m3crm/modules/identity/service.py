"""Wiring of the identity capability into the kernel."""

from __future__ import annotations

from m3crm.kernel.auth import register_session_check
from m3crm.modules.identity.repository import session_live_query


def register() -> None:
    register_session_check(session_live_query)
