"""The segment language (Section 3 §2 "Segments (saved filters)"), parsed and checked.

A definition is JSON:

    {"op": "and" | "or", "conditions": [<condition or group>, ...]}
    condition: {"field": "<name>" | "cf.<code>", "operator": "<op>", "value": <json>}

Parsing never touches the database; it turns untrusted JSON into a small typed tree
(`Group` / `Condition`) or raises `ValidationFailed` whose key is the path to the bad
node (`definition.conditions.1.value`). Field names and operators come from closed
tables below, values are type-checked, and nothing of the input ever becomes SQL text:
`repository_segments` compiles the tree into SQLAlchemy expressions with bound values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.contacts.models import ChannelType, CompanyStatus, Lifecycle, SegmentEntity
from m3crm.modules.customfields.models import CustomFieldDef, FieldType

MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_LIST = 100
MAX_TEXT = 200
CUSTOM_PREFIX = "cf."


class Kind(enum.StrEnum):
    TEXT = "text"
    ENUM = "enum"
    REF = "ref"
    BOOL = "bool"
    DATE = "date"
    NUMBER = "number"
    MULTI = "multi"
    CHANNEL = "channel"


OPERATORS: dict[Kind, frozenset[str]] = {
    Kind.TEXT: frozenset(
        {"eq", "neq", "contains", "starts_with", "in", "is_empty", "is_not_empty"}
    ),
    Kind.ENUM: frozenset({"eq", "neq", "in", "not_in"}),
    Kind.REF: frozenset({"eq", "neq", "in", "not_in", "is_empty", "is_not_empty"}),
    Kind.BOOL: frozenset({"eq"}),
    Kind.DATE: frozenset({"eq", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"}),
    Kind.NUMBER: frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"}),
    Kind.MULTI: frozenset({"contains_any", "contains_all", "is_empty", "is_not_empty"}),
    Kind.CHANNEL: frozenset({"eq", "contains", "starts_with", "is_empty", "is_not_empty"}),
}
NO_VALUE = frozenset({"is_empty", "is_not_empty"})
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any", "contains_all"})

CONTACT_FIELDS: dict[str, tuple[Kind, tuple[str, ...]]] = {
    "first_name": (Kind.TEXT, ()),
    "last_name": (Kind.TEXT, ()),
    "name": (Kind.TEXT, ()),
    "job_title": (Kind.TEXT, ()),
    "source": (Kind.TEXT, ()),
    "lifecycle_stage": (Kind.ENUM, tuple(v.value for v in Lifecycle)),
    "owner_user_id": (Kind.REF, ()),
    "company_id": (Kind.REF, ()),
    "is_private": (Kind.BOOL, ()),
    "created_at": (Kind.DATE, ()),
    "updated_at": (Kind.DATE, ()),
    "email": (Kind.CHANNEL, ()),
    "phone": (Kind.CHANNEL, ()),
    "has_verified_channel": (Kind.BOOL, ()),
    **{f"{t.value}_opt_in": (Kind.BOOL, ()) for t in ChannelType},
}
COMPANY_FIELDS: dict[str, tuple[Kind, tuple[str, ...]]] = {
    "name": (Kind.TEXT, ()),
    "domain": (Kind.TEXT, ()),
    "city": (Kind.TEXT, ()),
    "country": (Kind.TEXT, ()),
    "status": (Kind.ENUM, tuple(v.value for v in CompanyStatus)),
    "owner_user_id": (Kind.REF, ()),
    "created_at": (Kind.DATE, ()),
    "updated_at": (Kind.DATE, ()),
}
FIELDS = {SegmentEntity.CONTACT: CONTACT_FIELDS, SegmentEntity.COMPANY: COMPANY_FIELDS}
CUSTOM_KINDS = {
    FieldType.TEXT: Kind.TEXT,
    FieldType.NUMBER: Kind.NUMBER,
    FieldType.DATE: Kind.DATE,
    FieldType.BOOL: Kind.BOOL,
    FieldType.SELECT: Kind.ENUM,
    FieldType.MULTISELECT: Kind.MULTI,
}


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    kind: Kind
    operator: str
    value: Any
    custom: CustomFieldDef | None = None


@dataclass(frozen=True, slots=True)
class Group:
    op: str
    conditions: tuple[Condition | Group, ...]


def _fail(path: str, message: str) -> ValidationFailed:
    return ValidationFailed({path: message})


def _scalar(kind: Kind, raw: Any, choices: tuple[str, ...], path: str) -> Any:
    if kind in (Kind.TEXT, Kind.CHANNEL, Kind.ENUM, Kind.MULTI):
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_TEXT or "\x00" in raw:
            raise _fail(path, N_("Enter some text (at most 200 characters)."))
        if kind in (Kind.ENUM, Kind.MULTI) and raw not in choices:
            raise _fail(path, N_("Choose one of the allowed values."))
        return raw
    if kind is Kind.REF:
        try:
            return UUID(str(raw)) if isinstance(raw, str) else _bad(path)
        except ValueError:
            raise _fail(path, N_("Enter an id.")) from None
    if kind is Kind.BOOL:
        return raw if isinstance(raw, bool) else _bad(path)
    if kind is Kind.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or abs(raw) >= 1e15:
            raise _fail(path, N_("Enter a number."))
        if raw != raw:
            raise _fail(path, N_("Enter a number."))
        return raw
    if not isinstance(raw, str):
        raise _fail(path, N_("Enter a date as YYYY-MM-DD."))
    try:
        return datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw)
    except ValueError:
        raise _fail(path, N_("Enter a date as YYYY-MM-DD.")) from None


def _bad(path: str) -> Any:
    raise _fail(path, N_("This value does not suit the field."))


class Parser:
    """One parse of one definition: counts conditions across the whole tree."""

    def __init__(self, entity: SegmentEntity, custom: list[CustomFieldDef]) -> None:
        self.fields = FIELDS[entity]
        self.custom = {d.code: d for d in custom if d.active}
        self.count = 0

    def group(self, raw: Any, path: str, depth: int = 1) -> Group:
        if not isinstance(raw, dict) or set(raw) - {"op", "conditions"}:
            raise _fail(path, N_("A group has exactly `op` and `conditions`."))
        if depth > MAX_DEPTH:
            raise _fail(path, N_("Groups are nested too deeply (at most 4 levels)."))
        op = raw.get("op")
        if op not in ("and", "or"):
            raise _fail(f"{path}.op", N_("Use `and` or `or`."))
        items = raw.get("conditions")
        if not isinstance(items, list) or not items:
            raise _fail(f"{path}.conditions", N_("List at least one condition."))
        parsed: list[Condition | Group] = []
        for i, item in enumerate(items):
            where = f"{path}.conditions.{i}"
            if isinstance(item, dict) and "op" in item:
                parsed.append(self.group(item, where, depth + 1))
            else:
                parsed.append(self.condition(item, where))
        return Group(op=op, conditions=tuple(parsed))

    def condition(self, raw: Any, path: str) -> Condition:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise _fail(path, N_("A segment has at most 50 conditions."))
        if not isinstance(raw, dict) or set(raw) - {"field", "operator", "value"}:
            raise _fail(path, N_("A condition has `field`, `operator` and `value`."))
        name = raw.get("field")
        custom: CustomFieldDef | None = None
        if isinstance(name, str) and name.startswith(CUSTOM_PREFIX):
            custom = self.custom.get(name.removeprefix(CUSTOM_PREFIX))
            if custom is None:
                raise _fail(f"{path}.field", N_("There is no such field."))
            kind, choices = CUSTOM_KINDS[custom.type], tuple(custom.options)
        elif isinstance(name, str) and name in self.fields:
            kind, choices = self.fields[name]
        else:
            raise _fail(f"{path}.field", N_("There is no such field."))
        operator = raw.get("operator")
        if operator not in OPERATORS[kind]:
            raise _fail(f"{path}.operator", N_("This operator does not suit the field."))
        value = self._value(kind, operator, raw.get("value"), choices, f"{path}.value")
        return Condition(field=name, kind=kind, operator=operator, value=value, custom=custom)

    def _value(
        self, kind: Kind, operator: str, raw: Any, choices: tuple[str, ...], path: str
    ) -> Any:
        if operator in NO_VALUE:
            if raw is not None:
                raise _fail(path, N_("This operator takes no value."))
            return None
        if operator in LIST_OPERATORS:
            if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LIST:
                raise _fail(path, N_("Give a list of 1 to 100 values."))
            return tuple(_scalar(kind, v, choices, f"{path}.{i}") for i, v in enumerate(raw))
        return _scalar(kind, raw, choices, path)


def parse(entity: SegmentEntity, definition: Any, custom: list[CustomFieldDef]) -> Group:
    """The checked tree of `definition`, or 422 with the path to the first bad node."""
    return Parser(entity, custom).group(definition, "definition")
