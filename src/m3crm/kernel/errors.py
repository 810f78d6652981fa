"""The error model of ARCHITECTURE §4.

Below the routers, code raises `DomainError` subclasses (never `HTTPException`). Each
carries its HTTP status and the spec's code; the handlers in `kernel.web.errors` render
them as `{"error": {code, message, details, request_id}}` for `/v1` and as pages for HTML.
"""

from __future__ import annotations

from typing import Any, ClassVar

from m3crm.kernel.i18n import N_


class DomainError(Exception):
    """Base of every error a user may see. `message` is English; pages translate it."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    default_message: ClassVar[str] = N_("The request could not be processed.")

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class NotAuthenticated(DomainError):
    status_code = 401
    code = "AUTH_INVALID_CREDENTIALS"
    default_message = N_("Authentication is required.")


class PermissionDenied(DomainError):
    status_code = 403
    code = "PERMISSION_DENIED"
    default_message = N_("You do not have permission to do this.")


class NotFound(DomainError):
    """Also the answer for another tenant's id (tenancy canon §5)."""

    status_code = 404
    code = "NOT_FOUND"
    default_message = N_("Not found.")


class ValidationFailed(DomainError):
    status_code = 422
    code = "VALIDATION_ERROR"
    default_message = N_("Some fields are invalid.")

    def __init__(self, field_errors: dict[str, str], message: str | None = None) -> None:
        super().__init__(message, details={"fields": field_errors})

    @classmethod
    def unknown(cls, field: str, message: str, values: list[str]) -> ValidationFailed:
        """A refusal of values that name nothing (unknown codes or ids): the translatable
        `message` on `field`, the values themselves in `details.unknown`."""
        refused = cls({field: message})
        refused.details["unknown"] = values
        return refused


class PlanRequired(DomainError):
    status_code = 402
    code = "PLAN_REQUIRED"
    default_message = N_("Your plan does not include this feature.")

    def __init__(self, feature: str) -> None:
        super().__init__(details={"feature": feature})


class LimitReached(DomainError):
    status_code = 422
    code = "LIMIT_REACHED"
    default_message = N_("Your plan's limit has been reached.")

    def __init__(self, key: str, limit: int) -> None:
        super().__init__(details={"key": key, "limit": limit})


class MonthlyCapReached(DomainError):
    """A metered send over the plan's monthly cap (spec §2.13: caps answer 402)."""

    status_code = 402
    code = "LIMIT_REACHED"
    default_message = N_("Your plan's monthly allowance for this has been used up.")

    def __init__(self, key: str, limit: int) -> None:
        super().__init__(details={"key": key, "limit": limit, "period": "month"})


class RateLimited(DomainError):
    status_code = 429
    code = "RATE_LIMIT"
    default_message = N_("Too many requests; try again later.")

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
        )


class InvalidTransition(DomainError):
    status_code = 409
    code = "INVALID_TRANSITION"
    default_message = N_("This action is not allowed in the current state.")

    def __init__(self, entity: str, current: str, target: str) -> None:
        """The message stays the translatable default; the specifics go in `details`."""
        super().__init__(details={"entity": entity, "from": current, "to": target})


class Conflict(DomainError):
    status_code = 409
    code = "CONFLICT"
    default_message = N_("The request conflicts with the current state.")


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = N_("The request body is too large.")


class Unavailable(DomainError):
    status_code = 503
    code = "UNAVAILABLE"
    default_message = N_("The service is not ready.")


ERROR_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
                "request_id": {"type": ["string", "null"]},
            },
        }
    },
}


def error_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router: documents each error's status with the error schema."""
    return {
        err.status_code: {
            "description": err.default_message,
            "content": {"application/json": {"schema": ERROR_RESPONSE_SCHEMA}},
        }
        for err in errors
    }
