"""`contact_imports` rows and the bulk writes of an import (multi-row INSERTs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from m3crm.kernel.repository import TenantRepository
from m3crm.modules.contacts.models import Contact, ContactChannel, ContactImport, ContactLink
from m3crm.modules.customfields.models import CustomFieldValue


class ImportRepository(TenantRepository[ContactImport]):
    model = ContactImport

    async def insert_many(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
        """One INSERT for many rows; each dict already holds `tenant_id` and `id`."""
        if model not in (Contact, ContactChannel, ContactLink, CustomFieldValue):
            raise ValueError(f"imports do not write {model.__name__}")
        if rows:
            await self.session.execute(insert(model), list(rows))
