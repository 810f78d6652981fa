"""Bodies and answers of `/v1/custom-fields`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from m3crm.kernel.inputs import StorableModel
from m3crm.modules.customfields.models import EntityType, FieldType

EntityParam = Literal["contact", "company"]
"""Record types whose fields can be defined through the API today (deals, leads and
units join when their modules land)."""

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
Option = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


class FieldDefCreate(StorableModel):
    entity: EntityParam
    code: Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
    label: Label
    type: FieldType
    options: Annotated[list[Option], Field(max_length=100)] = []
    required: bool = False
    is_unique: bool = False
    position: Annotated[int, Field(ge=0, le=10_000)] = 0


class FieldDefPatch(StorableModel):
    """Every attribute optional; `code`, `entity` and `type` never change."""

    label: Label | None = None
    options: Annotated[list[Option], Field(max_length=100)] | None = None
    required: bool | None = None
    is_unique: bool | None = None
    active: bool | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class FieldDefOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    entity_type: EntityType
    code: str
    label: str
    type: FieldType
    options: list[str]
    required: bool
    is_unique: bool
    active: bool
    position: int
    created_at: datetime
    updated_at: datetime
