"""Permission checks. Codes are the spec's strings, registered in `permission_codes`.

Which codes a user holds is decided by the access module (roles); it registers a
`PermissionLoader` at start-up, so the kernel never imports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.kernel.permission_codes import is_known_permission

PermissionLoader = Callable[[AsyncSession, TenantId, UUID], Awaitable[frozenset[str]]]


async def _deny_all(session: AsyncSession, tenant_id: TenantId, user_id: UUID) -> frozenset[str]:
    return frozenset()


_loader: PermissionLoader = _deny_all


def register_permission_loader(loader: PermissionLoader) -> None:
    """Install the function that computes a user's effective permission codes."""
    global _loader
    _loader = loader


async def load_permissions(
    session: AsyncSession, tenant_id: TenantId, user_id: UUID
) -> frozenset[str]:
    """Effective codes of the user; with no loader registered, nothing is granted."""
    return await _loader(session, tenant_id, user_id)


def ensure_known(code: str) -> str:
    """Fail at import time on a typo: a route can only require a registered code."""
    if not is_known_permission(code):
        raise ValueError(f"unknown permission code {code!r}: add it to permission_codes")
    return code
