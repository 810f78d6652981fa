"""Checking and canonicalising custom field values (pure functions, no database).

`clean(defn, raw)` answers the JSON value to store plus its canonical text, or raises
`BadValue` with a translatable message. `None`, `""` and `[]` mean "no value".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from m3crm.kernel.i18n import N_
from m3crm.kernel.text import fold
from m3crm.modules.customfields.models import CustomFieldDef, FieldType

MAX_TEXT = 2000
KEY_LENGTH = 500
UNIQUE_CAPABLE = frozenset({FieldType.TEXT, FieldType.NUMBER, FieldType.DATE, FieldType.SELECT})
"""Types whose values can be compared for uniqueness (a bool or a set of options cannot)."""


class BadValue(ValueError):
    """`message` is an English msgid for the field's error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class CleanValue:
    """`value` is stored as JSONB; `text` is what filters and the unique key compare."""

    value: Any
    text: str | None


def is_empty(raw: Any) -> bool:
    return raw is None or raw == "" or raw == []


def _number(raw: Any) -> CleanValue:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise BadValue(N_("Enter a number."))
    if isinstance(raw, float) and not math.isfinite(raw):
        raise BadValue(N_("Enter a number."))
    if abs(raw) >= 1e15:
        raise BadValue(N_("This number is too large."))
    return CleanValue(raw, format(Decimal(str(raw)).normalize(), "f"))


def _date(raw: Any) -> CleanValue:
    if not isinstance(raw, str):
        raise BadValue(N_("Enter a date as YYYY-MM-DD."))
    try:
        parsed = date.fromisoformat(raw)
    except ValueError:
        raise BadValue(N_("Enter a date as YYYY-MM-DD.")) from None
    return CleanValue(parsed.isoformat(), parsed.isoformat())


def _select(raw: Any, options: list[str]) -> CleanValue:
    if not isinstance(raw, str) or raw not in options:
        raise BadValue(N_("Choose one of the options."))
    return CleanValue(raw, raw)


def _multiselect(raw: Any, options: list[str]) -> CleanValue:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v in options for v in raw):
        raise BadValue(N_("Choose from the options."))
    chosen = [o for o in options if o in raw]
    return CleanValue(chosen, None)


def clean(defn: CustomFieldDef, raw: Any) -> CleanValue:
    """The storable form of `raw` for `defn`; callers handle emptiness first."""
    if defn.type is FieldType.TEXT:
        if not isinstance(raw, str) or len(raw) > MAX_TEXT:
            raise BadValue(N_("Enter text of at most 2000 characters."))
        return CleanValue(raw, fold(raw.strip())[:KEY_LENGTH])
    if defn.type is FieldType.NUMBER:
        return _number(raw)
    if defn.type is FieldType.DATE:
        return _date(raw)
    if defn.type is FieldType.BOOL:
        if not isinstance(raw, bool):
            raise BadValue(N_("Choose yes or no."))
        return CleanValue(raw, "true" if raw else "false")
    if defn.type is FieldType.SELECT:
        return _select(raw, defn.options)
    return _multiselect(raw, defn.options)


def from_text(defn: CustomFieldDef, raw: str) -> Any:
    """A value typed as text (CSV cell, form field) in the JSON shape `clean` expects:
    numbers, yes/no and `|`-separated choices are read the way people type them;
    anything unreadable is passed on unchanged for `clean` to refuse."""
    if defn.type is FieldType.NUMBER:
        try:
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            return raw
    if defn.type is FieldType.BOOL:
        answers = {"true": True, "yes": True, "1": True, "on": True,
                   "false": False, "no": False, "0": False, "off": False}  # fmt: skip
        return answers.get(raw.lower(), raw)
    if defn.type is FieldType.MULTISELECT:
        return [part.strip() for part in raw.split("|") if part.strip()]
    return raw
