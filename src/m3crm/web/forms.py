"""HTML forms checked by the JSON API's body schemas, so a screen and the API accept
exactly the same input.

A refusal is the kernel's `ValidationFailed` (422) whose `fields` carry, per field, the
screen's own message for it (a schema's technical wording never reaches a person).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_

M = TypeVar("M", bound=BaseModel)
INVALID = N_("This value is not valid.")


def parse_form(model: type[M], data: Mapping[str, Any], messages: Mapping[str, str]) -> M:
    """`data` validated by `model`; 422 naming each refused field with `messages[field]`
    (or a generic message for a field without one)."""
    try:
        return model.model_validate(dict(data))
    except PydanticValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "form"
            errors.setdefault(field, messages.get(field, INVALID))
        raise ValidationFailed(errors) from None


def field_errors(error: ValidationFailed) -> dict[str, str]:
    """The per-field messages of a 422."""
    fields: dict[str, str] = error.details.get("fields", {})
    return fields
