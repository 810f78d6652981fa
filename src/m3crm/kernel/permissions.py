"""Permission checks. Codes are the spec's strings, registered in `permission_codes`.

Which codes a user holds is decided by the access module (roles); at start-up it
registers a `PermissionCodesQuery`, so the kernel never imports it. The kernel embeds
that query in the one statement that authenticates a request (`kernel.auth`), so the
codes cost no round trip of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy import BindParameter, ColumnElement, String, null
from sqlalchemy.dialects.postgresql import ARRAY

from m3crm.kernel.permission_codes import is_known_permission

PermissionCodesQuery = Callable[[BindParameter[UUID], BindParameter[UUID]], ColumnElement[Any]]
"""Given the bound `(tenant_id, user_id)`, a scalar SQL expression: the array of codes
that user holds (NULL or empty when none). Built once, executed on every request."""


def _no_codes(tenant_id: BindParameter[UUID], user_id: BindParameter[UUID]) -> ColumnElement[Any]:
    return null().cast(ARRAY(String))


_query: PermissionCodesQuery = _no_codes


def register_permission_query(query: PermissionCodesQuery) -> None:
    """Install the expression that computes a user's effective permission codes."""
    global _query
    _query = query


def permission_codes_query() -> PermissionCodesQuery:
    """The registered expression; with none registered, nothing is granted."""
    return _query


def ensure_known(code: str) -> str:
    """Fail at import time on a typo: a route can only require a registered code."""
    if not is_known_permission(code):
        raise ValueError(f"unknown permission code {code!r}: add it to permission_codes")
    return code
