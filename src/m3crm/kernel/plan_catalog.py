"""The dev plans, synced to `plans` / `plan_features` by `m3crm migrate`.

Every feature flag and limit key the spec names is here, spelled as the spec spells it,
with a comment naming its section. The spec gives per-plan *values* only in Section 1 §7
(DevFree / DevPro) and, through DECISIONS, for custom fields (§3.3), private contacts
(§3.5), approvals (§3A.4) and custom dictionaries (§12.1). Everything else is a project
choice, marked "project value", following two rules:

- DevPro is the full development plan: every feature the spec names, generous limits.
- DevFree runs the whole core CRM with small limits, but without SMS/WhatsApp (Section 1
  §7: "All SMS/WA off") and without what the spec calls optional, add-on or advanced
  (maps, telemarketing, bulk edit, multiple pipelines, sharing, overrides...).

A key absent from a plan is denied (`kernel.entitlements`: an absent limit is 0). A key is
either a feature or a limit in a plan, never both (`plan_features` is unique on
`(plan_id, feature)`); where the spec names only a feature but DECISIONS sets a count, the
count is the limit `<feature>.max`.

Named by the spec without a key, so left to their module: max recipients per campaign
(Section 9 §10), telemarketing's max active campaigns, stored recordings and concurrent
calls (Section 10 §11). The per-minute send throttles the spec names without a key
(Section 2 §8, §11) are the project keys `<channel>.perMinute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

SEATS: Final[str] = "users.max"
"""The seat limit: every module that can make someone hold a seat checks it (the identity
module counts seats and registers their usage source and lock)."""

# A limit that never binds: `require_limit` compares numbers, and no counter reaches it.
UNLIMITED: Final[int] = 2**31 - 1


@dataclass(frozen=True, slots=True)
class PlanDef:
    code: str
    name: str
    tier: int
    features: frozenset[str]
    limits: Mapping[str, int]


_DEV_FREE = PlanDef(
    code="DevFree",
    name="Dev Free",
    tier=0,
    features=frozenset(
        {
            "twofa.totp",  # Section 1 §7
            "plan.view",  # Section 1 §7
            "contacts.customFields",  # Section 3 §9; DECISIONS §3.3 (10 per entity)
            "deals.customFields",  # Section 5 §10; DECISIONS §3.3
            "units.customFields",  # Section 7 §10; DECISIONS §3.3
            "leads.import",  # Section 6 §10; project value (CSV import is MVP, §6.2)
            "rbac.groups",  # Section 12 §9; project value (DECISIONS §3A.1 seeds groups)
            "rbac.roleHierarchy",  # Section 12 §9; project value (DECISIONS §12.3 scopes)
            "dashboard.customize",  # Section 11 §8; project value (personal layouts)
        }
    ),
    limits=MappingProxyType(
        {
            "users.max": 3,  # Section 1 §7
            "email.perMinute": 600,  # Section 2 §8, §11; project key and value
            # Section 3 §9, 6 §10, 5 §10, 4 §9, 7 §10; project values
            "contacts.max": 2_000,
            "companies.max": 500,
            "leads.max": 2_000,
            "deals.max": 500,
            "tasks.max": 5_000,
            "units.max": 500,
            # DECISIONS §3.3: 10 custom fields per entity (project keys)
            "contacts.customFields.max": 10,
            "companies.customFields.max": 10,
            "leads.customFields.max": 10,
            "deals.customFields.max": 10,
            "units.customFields.max": 10,
            "approvals.activePolicies.max": 2,  # DECISIONS §3A.4 (project key)
            # Section 12 §9; project values (9 seeded roles, 4 seeded approver groups)
            "roles.max": 15,
            "groups.max": 10,
            # Appendix D §9; project value (the role templates of Appendix D §3 hold 6)
            "maxWidgetsPerLayout": 6,
        }
    ),
)

_DEV_PRO = PlanDef(
    code="DevPro",
    name="Dev Pro",
    tier=1,
    features=_DEV_FREE.features
    | {
        "twofa.sms",  # Section 1 §7
        "twofa.whatsapp",  # Section 1 §7
        "notifications.sms",  # Section 2 §8
        "notifications.whatsapp",  # Section 2 §8
        "marketing.sms",  # Section 2 §8
        "marketing.whatsapp",  # Section 2 §8
        "contacts.privateRecords",  # Section 3 §9; DECISIONS §3.5 (DevPro)
        "approvals.parallelSteps",  # DECISIONS §3A.4 (project key)
        "tasks.recurring",  # Section 4 §9 (later)
        "activities.emailSync",  # Section 4 §9 (later)
        "deals.multiPipelines",  # Section 5 §10
        "leads.scoring",  # Section 6 §10
        "units.bulkEdit",  # Section 7 §10
        "inventory.codeManagement",  # Section 7 §10
        "maps.enabled",  # Section 8 §6
        "maps.componentShapes",  # Section 8 §6
        "maps.publicViews",  # Section 8 §6
        "campaign.sms.enabled",  # Section 9 §10
        "campaign.whatsapp.enabled",  # Section 9 §10
        "telemarketing.enabled",  # Section 10 §11; Appendix D §9
        "dashboard.share",  # Section 11 §8
        "dashboard.customSQL",  # Section 11 §8
        "admin.entitlementsOverrides",  # Section 12 §9
        "admin.customDictionaries",  # Section 12 §9; DECISIONS §12.1 (DevPro)
    },
    limits=MappingProxyType(
        {
            "users.max": 25,  # Section 1 §7
            "sms.monthlyCap": 500,  # Section 1 §7; Section 2 §8
            "whatsapp.monthlyCap": 500,  # Section 1 §7; Section 2 §8
            # Section 2 §8, §11 ("per-minute throttles"); project keys and values
            "email.perMinute": 6_000,
            "sms.perMinute": 600,
            "whatsapp.perMinute": 600,
            # Section 3 §9, 6 §10, 5 §10, 4 §9, 7 §10; project values
            "contacts.max": UNLIMITED,
            "companies.max": UNLIMITED,
            "leads.max": UNLIMITED,
            "deals.max": UNLIMITED,
            "tasks.max": UNLIMITED,
            "units.max": UNLIMITED,
            # DECISIONS §3.3: 100 custom fields per entity (project keys)
            "contacts.customFields.max": 100,
            "companies.customFields.max": 100,
            "leads.customFields.max": 100,
            "deals.customFields.max": 100,
            "units.customFields.max": 100,
            "approvals.activePolicies.max": UNLIMITED,  # DECISIONS §3A.4 (project key)
            # Section 12 §9; project values
            "roles.max": 100,
            "groups.max": 100,
            # Section 8 §6; project values
            "maps.overlays.max": 100,
            "maps.shapes.max": 50_000,
            # Appendix D §9 (Section 11 §8); project values
            "maxWidgetsPerLayout": 24,
            "maxSharedLayouts": 20,
            "snapshotScheduling": 10,
        }
    ),
)

PLANS: Final[Mapping[str, PlanDef]] = MappingProxyType(
    {plan.code: plan for plan in (_DEV_FREE, _DEV_PRO)}
)

FEATURES: Final[frozenset[str]] = frozenset(f for p in PLANS.values() for f in p.features)
LIMIT_KEYS: Final[frozenset[str]] = frozenset(k for p in PLANS.values() for k in p.limits)

# Keys the spec does not name, added for the counts DECISIONS sets (§3.3, §3A.4) and
# for the per-minute throttles Section 2 §8 names without a key.
PROJECT_KEYS: Final[frozenset[str]] = frozenset(
    {
        "email.perMinute",
        "sms.perMinute",
        "whatsapp.perMinute",
        "contacts.customFields.max",
        "companies.customFields.max",
        "leads.customFields.max",
        "deals.customFields.max",
        "units.customFields.max",
        "approvals.activePolicies.max",
        "approvals.parallelSteps",
    }
)
