"""Request and response bodies of the plan API (spec §1.4 Entitlements, §1.7)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from m3crm.kernel.inputs import StorableModel
from m3crm.kernel.plan_catalog import PLANS

PLAN_CODES: list[JsonValue] = [*sorted(PLANS)]


class LimitUsageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    limit: int
    usage: int
    unlimited: bool


class PlanOut(BaseModel):
    """`code` is null when the tenant has no active plan (every check then denies)."""

    model_config = ConfigDict(from_attributes=True)

    code: str | None
    name: str | None
    tier: int | None
    features: list[str]
    limits: list[LimitUsageOut]


class PlanPreviewIn(StorableModel):
    plan_code: str = Field(json_schema_extra={"enum": PLAN_CODES})

    @field_validator("plan_code")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PLANS:
            raise ValueError(f"unknown plan; one of {', '.join(sorted(PLANS))}")
        return value


class LimitChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    old: int | None
    new: int | None
    usage: int


class PlanPreviewOut(BaseModel):
    """What would change; `exceeded` lists current usages above the new limits."""

    model_config = ConfigDict(from_attributes=True)

    current_plan: str | None
    target_plan: str
    features_gained: list[str]
    features_lost: list[str]
    limit_changes: list[LimitChangeOut]
    exceeded: list[LimitChangeOut]
