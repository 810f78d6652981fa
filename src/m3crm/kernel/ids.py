"""Identifiers: UUIDv7 made by the application, and the typed tenant id."""

from __future__ import annotations

from typing import NewType
from uuid import UUID

from uuid_utils.compat import uuid7

TenantId = NewType("TenantId", UUID)
"""A tenant id that was proven by authentication or by a re-checked OperationRun.

Only `kernel.auth` (for requests) and `kernel.runs.worker` (for jobs) create it, so a
function that takes a `TenantId` knows the caller is allowed inside that tenant.
"""


def new_id() -> UUID:
    """A time-ordered UUIDv7 (good index locality, usable for seek pagination)."""
    return uuid7()
