"""Pure pieces: primary channel flags, the segment parser's limits, CSV sniffing,
custom field text input, phone-suffix prefix ranges."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from m3crm.kernel.errors import ValidationFailed
from m3crm.modules.contacts.contacts import ChannelInput, primary_flags
from m3crm.modules.contacts.csv_files import parse_csv
from m3crm.modules.contacts.filters import MAX_CONDITIONS, parse
from m3crm.modules.contacts.models import ChannelType, Contact, SegmentEntity
from m3crm.modules.contacts.repository import starts_with
from m3crm.modules.customfields.models import CustomFieldDef, FieldType
from m3crm.modules.customfields.values import from_text

EMAIL, PHONE = ChannelType.EMAIL, ChannelType.PHONE


@pytest.mark.parametrize(
    ("items", "flags"),
    [
        ([ChannelInput(EMAIL, "a"), ChannelInput(EMAIL, "b")], [True, False]),
        ([ChannelInput(EMAIL, "a"), ChannelInput(EMAIL, "b", is_primary=True)], [False, True]),
        ([ChannelInput(EMAIL, "a"), ChannelInput(PHONE, "1")], [True, True]),
        ([ChannelInput(EMAIL, "a", True), ChannelInput(EMAIL, "b", True)], [True, False]),
    ],
)
def test_one_primary_per_type(items: list[ChannelInput], flags: list[bool]) -> None:
    assert primary_flags(items) == flags


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "name", "operator": "eq", "value": "x"}
    for _ in range(depth):
        node = {"op": "and", "conditions": [node]}
    return node


def test_parser_limits_depth_and_size() -> None:
    parse(SegmentEntity.CONTACT, nested(4), [])
    with pytest.raises(ValidationFailed) as deep:
        parse(SegmentEntity.CONTACT, nested(5), [])
    assert "definition.conditions.0.conditions.0.conditions.0.conditions.0" in str(
        deep.value.details["fields"]
    )
    many = {"op": "or", "conditions": [nested(0)] * (MAX_CONDITIONS + 1)}
    with pytest.raises(ValidationFailed):
        parse(SegmentEntity.CONTACT, many, [])


def test_company_segments_know_company_fields_only() -> None:
    parse(SegmentEntity.COMPANY, {"op": "and", "conditions": [
        {"field": "domain", "operator": "eq", "value": "x.test"}]}, [])  # fmt: skip
    with pytest.raises(ValidationFailed):
        parse(SegmentEntity.COMPANY, {"op": "and", "conditions": [
            {"field": "email", "operator": "is_empty", "value": None}]}, [])  # fmt: skip


def test_delimiters_are_sniffed_from_the_header() -> None:
    assert parse_csv(b"a;b\n1;2\n").delimiter == ";"
    assert parse_csv(b"a\tb\n1\t2\n").delimiter == "\t"
    assert parse_csv("\ufeffالاسم,b\nx,y\n".encode()).header == ["الاسم", "b"]


def field(kind: FieldType) -> CustomFieldDef:
    return CustomFieldDef(code="f", label="F", type=kind, options=["a", "b"])


def test_text_input_is_read_as_people_type_it() -> None:
    assert from_text(field(FieldType.NUMBER), "12") == 12
    assert from_text(field(FieldType.NUMBER), "1.5") == 1.5
    assert from_text(field(FieldType.NUMBER), "lots") == "lots"
    assert from_text(field(FieldType.BOOL), "Yes") is True
    assert from_text(field(FieldType.BOOL), "0") is False
    assert from_text(field(FieldType.MULTISELECT), "a | b") == ["a", "b"]


def test_prefix_is_a_leakproof_range() -> None:
    sql = str(
        starts_with(Contact.search_name, "محمد").compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    assert "LIKE" not in sql
    assert "contacts.search_name >= 'محمد'" in sql and "contacts.search_name < 'محمذ'" in sql
