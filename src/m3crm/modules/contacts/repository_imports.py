"""`contact_imports` rows and the bulk writes of an import (multi-row INSERTs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from m3crm.kernel.repository import TenantRepository
from m3crm.modules.contacts.models import Contact, ContactChannel, ContactImport, ContactLink
from m3crm.modules.customfields.models import CustomFieldValue


class ImportRepository(TenantRepository[ContactImport]):
    model = ContactImport

    async def insert_many(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
        """Multi-row INSERTs of the table (Core, not the ORM's per-object work); each dict
        already holds `tenant_id` and `id`. COPY would be faster but PostgreSQL refuses
        `COPY FROM` into tables with row-level security for roles it applies to."""
        if model not in (Contact, ContactChannel, ContactLink, CustomFieldValue):
            raise ValueError(f"imports do not write {model.__name__}")
        if rows:
            await self.session.execute(model.__table__.insert(), list(rows))
