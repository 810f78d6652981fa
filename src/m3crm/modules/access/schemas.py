"""Request and response bodies of the RBAC API (spec §1.4 RBAC)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from m3crm.kernel.inputs import StorableModel

RoleCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class RoleOut(BaseModel):
    id: UUID
    code: str
    name: str
    is_system: bool
    user_count: int


class PermissionOut(BaseModel):
    code: str
    area: str
    description: str


class RolePermissionsOut(BaseModel):
    role_id: UUID
    code: str
    permissions: list[PermissionOut]


class UserRolesIn(StorableModel):
    """Role codes to give and to take away; either list may be empty."""

    assign: list[RoleCode] = Field(default_factory=list, max_length=50)
    remove: list[RoleCode] = Field(default_factory=list, max_length=50)


class UserRolesOut(BaseModel):
    user_id: UUID
    roles: list[str]
