"""Request bodies that PostgreSQL can store: a base model every `/v1` body inherits.

JSON may carry characters no PostgreSQL text or JSONB value accepts (NUL, and lone
UTF-16 surrogates that are not valid UTF-8). A body holding one anywhere — in a string
or a key, however deeply nested — is refused as 422 on the field it arrived in, before
any handler runs, instead of failing in the database.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def unstorable(value: Any) -> bool:
    """Whether `value` (any JSON value) contains text PostgreSQL cannot store."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(unstorable(v) for v in value)
    return False


class StorableModel(BaseModel):
    """Unknown fields are refused too (the schema says `additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if unstorable(key) or unstorable(value):
                    raise ValueError(f"{key}: contains characters that cannot be stored")
        return data
