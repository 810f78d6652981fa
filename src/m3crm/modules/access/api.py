"""JSON API of roles and role assignment: `/v1/admin/roles`, `/v1/admin/users/{id}/roles`."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from m3crm.kernel.auth import AuthSubject, DbSession, require
from m3crm.kernel.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    error_responses,
)
from m3crm.kernel.permission_codes import PERMISSIONS, PermissionDef
from m3crm.modules.access.schemas import (
    PermissionOut,
    RoleOut,
    RolePermissionsOut,
    UserRolesIn,
    UserRolesOut,
)
from m3crm.modules.access.service import access

RoleReader = Annotated[AuthSubject, Depends(require("role.read"))]
RoleAssigner = Annotated[AuthSubject, Depends(require("role.assign"))]

router = APIRouter(
    tags=["access"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


@router.get("/v1/admin/roles", response_model=list[RoleOut])
async def list_roles(session: DbSession, subject: RoleReader) -> list[RoleOut]:
    return [
        RoleOut(
            id=role.id,
            code=role.code,
            name=role.name,
            is_system=role.is_system,
            user_count=count,
        )
        for role, count in await access.list_roles(session, subject)
    ]


def _permission(code: str) -> PermissionOut:
    known = PERMISSIONS.get(code) or PermissionDef(code, "unknown", "")
    return PermissionOut(code=known.code, area=known.area, description=known.description)


@router.get(
    "/v1/admin/roles/{role_id}/permissions",
    response_model=RolePermissionsOut,
    responses=error_responses(NotFound),
)
async def role_permissions(
    role_id: UUID, session: DbSession, subject: RoleReader
) -> RolePermissionsOut:
    role, codes = await access.role_permissions(session, subject, role_id)
    return RolePermissionsOut(
        role_id=role.id, code=role.code, permissions=[_permission(c) for c in codes]
    )


@router.post(
    "/v1/admin/users/{user_id}/roles",
    response_model=UserRolesOut,
    responses=error_responses(NotFound, Conflict),
)
async def change_user_roles(
    user_id: UUID, body: UserRolesIn, session: DbSession, subject: RoleAssigner
) -> UserRolesOut:
    """Audited as `role.assigned` / `role.removed` with the role codes before and after."""
    roles = await access.change_user_roles(
        session, subject, user_id, assign=body.assign, remove=body.remove
    )
    return UserRolesOut(user_id=user_id, roles=roles)
