"""Bodies and answers of `/v1/dictionaries` and `/v1/admin/dictionaries`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from m3crm.kernel.inputs import StorableModel
from m3crm.modules.dictionaries.models import DictionaryEntry

CODE_PATTERN = r"^[a-z0-9_]{2,40}$"
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$")
]
SortOrder = Annotated[int, Field(ge=0, le=100_000)]


class EntryCreate(StorableModel):
    code: Code
    label_en: Label
    label_ar: Label
    sort_order: SortOrder = 0


class EntryPatch(StorableModel):
    """Every attribute optional; `code` never changes. `is_active: true` reactivates."""

    label_en: Label | None = None
    label_ar: Label | None = None
    sort_order: SortOrder | None = None
    is_active: bool | None = None


class EntryOut(BaseModel):
    id: UUID
    code: str
    label: str = Field(description="The label in the response language.")
    label_en: str
    label_ar: str
    sort_order: int
    is_active: bool
    is_global: bool = Field(description="A product default, read-only to the organisation.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry: DictionaryEntry, locale: str) -> EntryOut:
        return cls(
            id=entry.id,
            code=entry.code,
            label=entry.label(locale),
            label_en=entry.label_en,
            label_ar=entry.label_ar,
            sort_order=entry.sort_order,
            is_active=entry.is_active,
            is_global=entry.is_global,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )
