"""JSON API `/v1/custom-fields/definitions` (spec Section 3 §4)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from m3crm.kernel.auth import AuthSubject, DbSession, Subject, require
from m3crm.kernel.errors import (
    Conflict,
    LimitReached,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanRequired,
    ValidationFailed,
    error_responses,
)
from m3crm.modules.customfields.models import EntityType
from m3crm.modules.customfields.schemas import (
    EntityParam,
    FieldDefCreate,
    FieldDefOut,
    FieldDefPatch,
)
from m3crm.modules.customfields.service import FieldChanges, FieldSpec, custom_fields

FieldManager = Annotated[AuthSubject, Depends(require("customfields.manage"))]
READ_PERMISSIONS = {"contact": "contact.read", "company": "company.read"}

router = APIRouter(
    prefix="/v1/custom-fields/definitions",
    tags=["custom fields"],
    responses=error_responses(NotAuthenticated, PermissionDenied, ValidationFailed),
)


@router.get("", response_model=list[FieldDefOut])
async def list_definitions(
    entity: EntityParam, session: DbSession, subject: Subject, include_inactive: bool = False
) -> list[FieldDefOut]:
    """Readable by whoever may read records of `entity` (forms need the definitions)."""
    await require(READ_PERMISSIONS[entity])(subject)
    defs = await custom_fields.list_defs(
        session, subject.tenant_id, EntityType(entity), active_only=not include_inactive
    )
    return [FieldDefOut.model_validate(d) for d in defs]


@router.post(
    "",
    response_model=FieldDefOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(PlanRequired, LimitReached, Conflict),
)
async def create_definition(
    body: FieldDefCreate, session: DbSession, subject: FieldManager
) -> FieldDefOut:
    spec = FieldSpec(
        code=body.code,
        label=body.label,
        type=body.type,
        options=list(body.options),
        required=body.required,
        is_unique=body.is_unique,
        position=body.position,
    )
    defn = await custom_fields.create_def(session, subject, EntityType(body.entity), spec)
    return FieldDefOut.model_validate(defn)


@router.get("/{field_id}", response_model=FieldDefOut, responses=error_responses(NotFound))
async def get_definition(field_id: UUID, session: DbSession, subject: FieldManager) -> FieldDefOut:
    return FieldDefOut.model_validate(await custom_fields.get_def(session, subject, field_id))


@router.patch(
    "/{field_id}", response_model=FieldDefOut, responses=error_responses(NotFound, Conflict)
)
async def update_definition(
    field_id: UUID, body: FieldDefPatch, session: DbSession, subject: FieldManager
) -> FieldDefOut:
    changes = FieldChanges(**body.model_dump(exclude_unset=True, exclude_none=True))
    defn = await custom_fields.update_def(session, subject, field_id, changes)
    return FieldDefOut.model_validate(defn)


@router.delete(
    "/{field_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(NotFound)
)
async def delete_definition(field_id: UUID, session: DbSession, subject: FieldManager) -> Response:
    """Deletes the field and every value records held for it (audited)."""
    await custom_fields.delete_def(session, subject, field_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
