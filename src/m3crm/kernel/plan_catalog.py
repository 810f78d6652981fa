"""Provisional plan catalog (being replaced by the full spec catalog)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class PlanDef:
    code: str
    name: str
    tier: int
    features: frozenset[str]
    limits: Mapping[str, int]


PLANS: Final[Mapping[str, PlanDef]] = {
    "DevFree": PlanDef(
        "DevFree", "Dev Free", 0, frozenset({"twofa.totp", "plan.view"}), {"users.max": 3}
    ),
    "DevPro": PlanDef(
        "DevPro",
        "Dev Pro",
        1,
        frozenset({"twofa.totp", "twofa.sms", "twofa.whatsapp", "plan.view"}),
        {"users.max": 25, "sms.monthlyCap": 500, "whatsapp.monthlyCap": 500},
    ),
}
