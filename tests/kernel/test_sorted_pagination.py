"""`kernel.pagination` sort cursors: round trips, and every malformed cursor is a 422."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.ids import new_id
from m3crm.kernel.pagination import decode_sort_cursor, encode_sort_cursor


def test_text_and_time_values_round_trip() -> None:
    last = new_id()
    assert decode_sort_cursor(encode_sort_cursor("مُحَمَّد علي", last), temporal=False) == (
        "مُحَمَّد علي",
        last,
    )
    moment = datetime(2026, 11, 26, 2, 30, 1, 123456, tzinfo=UTC)
    assert decode_sort_cursor(encode_sort_cursor(moment, last), temporal=True) == (moment, last)
    assert decode_sort_cursor(encode_sort_cursor(None, last), temporal=False) == (None, last)


@pytest.mark.parametrize(
    "cursor",
    [
        "A" * 22,  # base64 of bytes that are not JSON
        encode_sort_cursor("x", new_id())[:-3],  # cut short
        "W10",  # []
        "WzEsMl0",  # [1, 2]
        "WyJ4IiwgIm5vdC1hLXV1aWQiXQ",  # ["x", "not-a-uuid"]
    ],
)
def test_malformed_cursors_are_422(cursor: str) -> None:
    with pytest.raises(ValidationFailed):
        decode_sort_cursor(cursor, temporal=False)


def test_a_text_value_in_a_time_cursor_is_422() -> None:
    with pytest.raises(ValidationFailed):
        decode_sort_cursor(encode_sort_cursor("yesterday", new_id()), temporal=True)
