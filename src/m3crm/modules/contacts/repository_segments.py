"""`segments` rows, and the compiler from a checked filter tree to SQLAlchemy.

The compiler maps names from the closed tables of `filters` to mapped columns and passes
every value as a bound parameter: no text of a definition ever reaches the SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Numeric, and_, case, cast, func, not_, or_
from sqlalchemy.orm import InstrumentedAttribute

from m3crm.kernel.ids import TenantId
from m3crm.kernel.repository import TenantRepository
from m3crm.kernel.text import fold
from m3crm.modules.contacts.filters import Condition, Group, Kind
from m3crm.modules.contacts.models import (
    ChannelType,
    Company,
    Contact,
    ContactChannel,
    Segment,
    SegmentEntity,
)
from m3crm.modules.contacts.repository import PHONE_TYPES, ContactRepository, escape_like
from m3crm.modules.customfields.models import CustomFieldValue, EntityType
from m3crm.modules.customfields.repository import value_exists

Column = ColumnElement[Any] | InstrumentedAttribute[Any]


class SegmentRepository(TenantRepository[Segment]):
    model = Segment

    async def list(self, entity: SegmentEntity | None) -> list[Segment]:
        stmt = self.base_statement()
        if entity is not None:
            stmt = stmt.where(Segment.entity_type == entity)
        return list((await self.session.execute(stmt.order_by(Segment.name))).scalars())

    async def by_name(self, entity: SegmentEntity, name: str) -> Segment | None:
        stmt = self.base_statement().where(Segment.entity_type == entity, Segment.name == name)
        return (await self.session.execute(stmt)).scalar_one_or_none()


def _text(column: Column, op: str, value: Any) -> ColumnElement[bool]:
    """Folded text comparison (`kernel.text.fold` on both sides); `column` is folded."""
    if op == "is_empty":
        return or_(column.is_(None), column == "")
    if op == "is_not_empty":
        return and_(column.is_not(None), column != "")
    if op == "in":
        return column.in_([fold(v) for v in value])
    if op == "eq":
        return column == fold(value)
    if op == "neq":
        return or_(column.is_(None), column != fold(value))
    pattern = escape_like(fold(value))
    if op == "contains":
        return column.like(f"%{pattern}%", escape="\\")
    return column.like(f"{pattern}%", escape="\\")


def _choice(column: Column, op: str, value: Any) -> ColumnElement[bool]:
    if op == "is_empty":
        return column.is_(None)
    if op == "is_not_empty":
        return column.is_not(None)
    if op == "eq":
        equal: ColumnElement[bool] = column == value
        return equal
    if op == "neq":
        return or_(column.is_(None), column != value)
    if op == "in":
        return column.in_(list(value))
    outside: ColumnElement[bool] = or_(column.is_(None), column.not_in(list(value)))
    return outside


def _day_bounds(value: date | datetime) -> tuple[datetime, datetime]:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment, moment
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _moment(column: Column, op: str, value: Any) -> ColumnElement[bool]:
    """A timestamp against a day (the whole UTC day) or an exact moment."""
    if op in ("is_empty", "is_not_empty"):
        return column.is_(None) if op == "is_empty" else column.is_not(None)
    start, end = _day_bounds(value)
    exact = start == end
    if op == "eq":
        return column == start if exact else and_(column >= start, column < end)
    if op == "gt":
        return column > start if exact else column >= end
    if op == "gte":
        return column >= start
    if op == "lt":
        return column < start
    return column <= start if exact else column < end


def _ordered(column: Column, op: str, value: Any) -> ColumnElement[bool]:
    comparisons: dict[str, ColumnElement[bool]] = {
        "eq": column == value,
        "neq": column != value,
        "gt": column > value,
        "gte": column >= value,
        "lt": column < value,
        "lte": column <= value,
    }
    return comparisons[op]


class SegmentCompiler:
    """Compiles a checked tree for one tenant and record type into a WHERE clause that
    correlates with `Contact` or `Company` rows of the caller's statement."""

    def __init__(self, tenant_id: TenantId, entity: SegmentEntity, contacts: ContactRepository):
        self.tenant_id = tenant_id
        self.entity = entity
        self.contacts = contacts
        self.row_id = Contact.id if entity is SegmentEntity.CONTACT else Company.id
        self.entity_type = (
            EntityType.CONTACT if entity is SegmentEntity.CONTACT else EntityType.COMPANY
        )

    def compile(self, group: Group) -> ColumnElement[bool]:
        parts = [
            self.compile(node) if isinstance(node, Group) else self._condition(node)
            for node in group.conditions
        ]
        return and_(*parts) if group.op == "and" else or_(*parts)

    def _condition(self, c: Condition) -> ColumnElement[bool]:
        if c.custom is not None:
            return self._custom(c)
        if self.entity is SegmentEntity.COMPANY:
            return self._company(c)
        return self._contact(c)

    def _contact(self, c: Condition) -> ColumnElement[bool]:
        if c.field == "name":
            return _text(Contact.search_name, c.operator, c.value)
        if c.kind is Kind.TEXT:
            return _text(func.m3crm_fold(getattr(Contact, c.field)), c.operator, c.value)
        if c.kind in (Kind.ENUM, Kind.REF):
            return _choice(getattr(Contact, c.field), c.operator, c.value)
        if c.kind is Kind.DATE:
            return _moment(getattr(Contact, c.field), c.operator, c.value)
        if c.kind is Kind.CHANNEL:
            return self._channel(c)
        if c.field == "is_private":
            return Contact.is_private.is_(c.value)
        if c.field == "has_verified_channel":
            found = self.contacts.has_channel(ContactChannel.verified_at.is_not(None))
        else:
            channel_type = ChannelType(c.field.removesuffix("_opt_in"))
            found = self.contacts.has_channel(
                and_(ContactChannel.type == channel_type, ContactChannel.opt_in.is_(True))
            )
        return found if c.value else not_(found)

    def _channel(self, c: Condition) -> ColumnElement[bool]:
        email = c.field == "email"
        types = (ChannelType.EMAIL,) if email else PHONE_TYPES
        kind = ContactChannel.type.in_(types)
        if c.operator in ("is_empty", "is_not_empty"):
            found = self.contacts.has_channel(kind)
            return not_(found) if c.operator == "is_empty" else found
        value = c.value.strip().lower()
        if not email:
            value = "".join(ch for ch in fold(value) if ch.isdigit())
            if c.operator == "eq":
                value = f"+{value}"
        pattern = escape_like(value)
        column = ContactChannel.normalized_value
        matches = {
            "eq": column == value,
            "contains": column.like(f"%{pattern}%", escape="\\"),
            "starts_with": column.like(f"{'' if email else '+'}{pattern}%", escape="\\"),
        }[c.operator]
        return self.contacts.has_channel(and_(kind, matches))

    def _company(self, c: Condition) -> ColumnElement[bool]:
        if c.field == "name":
            return _text(Company.search_name, c.operator, c.value)
        if c.kind is Kind.TEXT:
            return _text(func.m3crm_fold(getattr(Company, c.field)), c.operator, c.value)
        if c.kind is Kind.DATE:
            return _moment(getattr(Company, c.field), c.operator, c.value)
        return _choice(getattr(Company, c.field), c.operator, c.value)

    def _custom(self, c: Condition) -> ColumnElement[bool]:
        assert c.custom is not None
        field_id = c.custom.id

        def has(condition: ColumnElement[bool] | None) -> ColumnElement[bool]:
            return value_exists(self.tenant_id, self.entity_type, self.row_id, field_id, condition)

        if c.operator == "is_empty":
            return not_(has(None))
        if c.operator == "is_not_empty":
            return has(None)
        text = CustomFieldValue.value_text
        if c.kind is Kind.TEXT:
            if c.operator == "neq":
                return not_(has(text == fold(c.value)))
            return has(_text(text, c.operator, c.value))
        if c.kind is Kind.ENUM:
            if c.operator in ("neq", "not_in"):
                positive = "eq" if c.operator == "neq" else "in"
                return not_(has(_choice(text, positive, c.value)))
            return has(_choice(text, c.operator, c.value))
        if c.kind is Kind.BOOL:
            return has(text == ("true" if c.value else "false"))
        if c.kind is Kind.NUMBER:
            number = case(
                (func.jsonb_typeof(CustomFieldValue.value) == "number",
                 cast(CustomFieldValue.value, Numeric)),
            )  # fmt: skip
            return has(_ordered(number, c.operator, c.value))
        if c.kind is Kind.DATE:
            day = c.value.date() if isinstance(c.value, datetime) else c.value
            return has(_ordered(text, c.operator, day.isoformat()))
        value = CustomFieldValue.value
        if c.operator == "contains_all":
            return has(value.contains(list(c.value)))
        return has(or_(*[value.contains([v]) for v in c.value]))
