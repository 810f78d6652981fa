"""Every query on `custom_field_defs` and `custom_field_values` (CONVENTIONS rule 1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute

from m3crm.kernel.ids import new_id
from m3crm.kernel.repository import TenantRepository
from m3crm.modules.customfields.models import CustomFieldDef, CustomFieldValue, EntityType
from m3crm.modules.customfields.values import CleanValue


class FieldDefRepository(TenantRepository[CustomFieldDef]):
    model = CustomFieldDef

    async def list(self, entity_type: EntityType, *, active_only: bool) -> list[CustomFieldDef]:
        stmt = self.base_statement().where(CustomFieldDef.entity_type == entity_type)
        if active_only:
            stmt = stmt.where(CustomFieldDef.active.is_(True))
        stmt = stmt.order_by(CustomFieldDef.position, CustomFieldDef.id)
        return list((await self.session.execute(stmt)).scalars())

    async def by_code(self, entity_type: EntityType, code: str) -> CustomFieldDef | None:
        stmt = self.base_statement().where(
            CustomFieldDef.entity_type == entity_type, CustomFieldDef.code == code
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count(self, entity_type: EntityType) -> int:
        stmt = select(func.count(CustomFieldDef.id)).where(
            CustomFieldDef.tenant_id == self.tenant_id,
            CustomFieldDef.entity_type == entity_type,
        )
        return int((await self.session.execute(stmt)).scalar_one())


class FieldValueRepository(TenantRepository[CustomFieldValue]):
    model = CustomFieldValue

    async def of_entities(
        self, entity_type: EntityType, entity_ids: Sequence[UUID]
    ) -> list[CustomFieldValue]:
        if not entity_ids:
            return []
        stmt = self.base_statement().where(
            CustomFieldValue.entity_type == entity_type,
            CustomFieldValue.entity_id.in_(entity_ids),
        )
        return list((await self.session.execute(stmt)).scalars())

    async def key_taken(
        self, field_id: UUID, unique_key: str, *, other_than: UUID | None
    ) -> UUID | None:
        """The entity already holding `unique_key` for this field (not `other_than`)."""
        stmt = select(CustomFieldValue.entity_id).where(
            CustomFieldValue.tenant_id == self.tenant_id,
            CustomFieldValue.field_id == field_id,
            CustomFieldValue.unique_key == unique_key,
        )
        if other_than is not None:
            stmt = stmt.where(CustomFieldValue.entity_id != other_than)
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def holders_of_keys(self, field_id: UUID, keys: Sequence[str]) -> dict[str, UUID]:
        """`{unique key: entity id}` for the keys already held for this field."""
        if not keys:
            return {}
        stmt = select(CustomFieldValue.unique_key, CustomFieldValue.entity_id).where(
            CustomFieldValue.tenant_id == self.tenant_id,
            CustomFieldValue.field_id == field_id,
            CustomFieldValue.unique_key.in_(keys),
        )
        return {str(key): entity for key, entity in (await self.session.execute(stmt)).all()}

    async def has_duplicate_texts(self, field_id: UUID) -> bool:
        """Whether two values of the field share a canonical text (before making it unique)."""
        column = CustomFieldValue.value_text
        stmt = (
            select(column)
            .where(
                CustomFieldValue.tenant_id == self.tenant_id,
                CustomFieldValue.field_id == field_id,
                column.is_not(None),
            )
            .group_by(column)
            .having(func.count() > 1)
            .limit(1)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def set_unique_keys(self, field_id: UUID, *, unique: bool) -> None:
        stmt = (
            update(CustomFieldValue)
            .where(
                CustomFieldValue.tenant_id == self.tenant_id, CustomFieldValue.field_id == field_id
            )
            .values(unique_key=CustomFieldValue.value_text if unique else None)
        )
        await self.session.execute(stmt)

    async def upsert(
        self,
        entity_type: EntityType,
        entity_id: UUID,
        field_id: UUID,
        clean: CleanValue,
        *,
        unique: bool,
    ) -> None:
        values: dict[str, Any] = {
            "value": clean.value,
            "value_text": clean.text,
            "unique_key": clean.text if unique else None,
        }
        stmt = (
            insert(CustomFieldValue)
            .values(
                tenant_id=self.tenant_id,
                id=new_id(),
                entity_type=entity_type,
                entity_id=entity_id,
                field_id=field_id,
                **values,
            )
            .on_conflict_do_update(
                index_elements=["tenant_id", "entity_type", "entity_id", "field_id"],
                set_={**values, "updated_at": func.now()},
            )
        )
        await self.session.execute(stmt)

    async def remove(
        self, entity_type: EntityType, entity_id: UUID, field_ids: Iterable[UUID] | None = None
    ) -> None:
        stmt = delete(CustomFieldValue).where(
            CustomFieldValue.tenant_id == self.tenant_id,
            CustomFieldValue.entity_type == entity_type,
            CustomFieldValue.entity_id == entity_id,
        )
        if field_ids is not None:
            stmt = stmt.where(CustomFieldValue.field_id.in_(list(field_ids)))
        await self.session.execute(stmt)

    async def move_missing(self, entity_type: EntityType, source: UUID, target: UUID) -> None:
        """Give `target` the source's values for fields it has no value for; drop the rest."""
        held = select(CustomFieldValue.field_id).where(
            CustomFieldValue.tenant_id == self.tenant_id,
            CustomFieldValue.entity_type == entity_type,
            CustomFieldValue.entity_id == target,
        )
        await self.session.execute(
            update(CustomFieldValue)
            .where(
                CustomFieldValue.tenant_id == self.tenant_id,
                CustomFieldValue.entity_type == entity_type,
                CustomFieldValue.entity_id == source,
                CustomFieldValue.field_id.not_in(held.scalar_subquery()),
            )
            .values(entity_id=target, updated_at=func.now())
        )
        await self.remove(entity_type, source)


def value_exists(
    tenant_id: UUID,
    entity_type: EntityType,
    entity_id: ColumnElement[UUID] | InstrumentedAttribute[UUID],
    field_id: UUID,
    condition: ColumnElement[bool] | None,
) -> ColumnElement[bool]:
    """`EXISTS` a value of `field_id` on the row whose id is `entity_id` (a correlated
    column of the caller's query) meeting `condition` (a clause on `CustomFieldValue`)."""
    stmt = select(CustomFieldValue.id).where(
        CustomFieldValue.tenant_id == tenant_id,
        CustomFieldValue.entity_type == entity_type,
        CustomFieldValue.entity_id == entity_id,
        CustomFieldValue.field_id == field_id,
    )
    if condition is not None:
        stmt = stmt.where(condition)
    return exists(stmt)
