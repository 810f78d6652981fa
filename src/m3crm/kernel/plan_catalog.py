"""The dev plans (spec §1.7, DECISIONS §3.3), synced to `plans` by `m3crm migrate`.

Later capabilities add their feature flags and limits here as they land; a key absent
from a plan is denied (see `kernel.entitlements`).
"""

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
        code="DevFree",
        name="Dev Free",
        tier=0,
        # §1.7: all SMS/WhatsApp off.
        features=frozenset({"twofa.totp", "plan.view"}),
        limits={
            "users.max": 3,  # §1.7
            "contacts.customFields": 10,  # DECISIONS §3.3
        },
    ),
    "DevPro": PlanDef(
        code="DevPro",
        name="Dev Pro",
        tier=1,
        features=frozenset(
            {
                "twofa.totp",
                "twofa.sms",
                "twofa.whatsapp",
                "plan.view",
                "contacts.privateRecords",  # DECISIONS §3.5
            }
        ),
        limits={
            "users.max": 25,  # §1.7
            "sms.monthlyCap": 500,  # §1.7
            "whatsapp.monthlyCap": 500,  # §1.7
            "contacts.customFields": 100,  # DECISIONS §3.3
        },
    ),
}

FEATURES: Final[frozenset[str]] = frozenset(f for p in PLANS.values() for f in p.features)
LIMIT_KEYS: Final[frozenset[str]] = frozenset(k for p in PLANS.values() for k in p.limits)
