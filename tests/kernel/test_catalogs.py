"""The permission registry and plan catalog are consistent with each other and the spec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from m3crm.kernel.permission_codes import (
    PERMISSION_ALIASES,
    PERMISSIONS,
    PROJECT_ADDITIONS,
    RESERVED_FOR_SUPER_ADMIN,
    ROLE_TEMPLATES,
    is_known_permission,
)
from m3crm.kernel.plan_catalog import FEATURES, LIMIT_KEYS, PLANS, PROJECT_KEYS

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "M3CoreCRM-spec.md"
needs_spec = pytest.mark.skipif(not SPEC.exists(), reason="the shared spec is not beside the repo")

# `user`, `notify.preferences.update.self`, `telemarketing.manage_campaigns`, `user.forceLogout`:
# a lower-case head, then one to three segments, camelCase or snake_case, never both.
CODE = re.compile(r"^[a-z]+(?:\.(?:[a-z]+(?:_[a-z]+)+|[a-z][a-zA-Z]*)){1,3}$")
# `twofa.totp`, `maps.overlays.max`, `campaign.sms.enabled`, `maxWidgetsPerLayout`.
KEY = re.compile(r"^[a-z][a-zA-Z]*(?:\.[a-z][a-zA-Z]*){0,3}$")
ADMIN_ONLY = {
    "twofa.manage.tenant",  # Section 1 §5: "super/admin only"
    "notify.policies.manage",  # Section 14 §12: "(tenant admin)"
    "audit.read",  # Section 18 §7: "Audit log viewer (admin-only ...)"
    "audit.export",
    "ops.runs.manage",  # docs/decisions.md: runs are an admin surface
}
SEEDED_ROLES = {  # DECISIONS §1.2 and §12.2
    "super_admin",
    "admin",
    "staff",
    "sales_manager",
    "sales_agent",
    "finance_manager",
    "inventory_manager",
    "marketing_manager",
    "viewer",
}


def spec_sections(heading: str) -> list[tuple[str, str]]:
    """(heading, body line) for every line under a heading that matches `heading`."""
    lines: list[tuple[str, str]] = []
    current = ""
    inside = False
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            current, inside = line, bool(re.search(heading, line))
        elif inside:
            lines.append((current, line))
    return lines


def test_codes_are_well_formed_and_described() -> None:
    for code, permission in PERMISSIONS.items():
        assert CODE.match(code), code
        assert permission.code == code
        assert permission.area and permission.area.islower()
        assert permission.description.endswith("."), code


def test_is_known_permission() -> None:
    assert is_known_permission("deal.stage.move")
    assert is_known_permission("ops.runs.read")
    assert not is_known_permission("contact.raed")
    assert not is_known_permission("deals.view")


def test_aliases_point_at_registered_codes() -> None:
    for alias, code in PERMISSION_ALIASES.items():
        assert alias not in PERMISSIONS
        assert code in PERMISSIONS


def test_role_templates_use_known_codes() -> None:
    assert set(ROLE_TEMPLATES) == SEEDED_ROLES
    for role, codes in ROLE_TEMPLATES.items():
        assert codes, role
        assert codes <= set(PERMISSIONS), (role, sorted(codes - set(PERMISSIONS)))


def test_super_admin_has_all_and_admin_all_but_reserved() -> None:
    assert ROLE_TEMPLATES["super_admin"] == set(PERMISSIONS)
    assert ROLE_TEMPLATES["admin"] == set(PERMISSIONS) - RESERVED_FOR_SUPER_ADMIN
    assert RESERVED_FOR_SUPER_ADMIN.issubset(PERMISSIONS)


def test_admin_only_codes_stay_with_admins() -> None:
    for role, codes in ROLE_TEMPLATES.items():
        if role not in {"super_admin", "admin"}:
            assert not codes & ADMIN_ONLY, (role, sorted(codes & ADMIN_ONLY))


def test_viewer_only_reads() -> None:
    viewer = ROLE_TEMPLATES["viewer"]
    own_account = {"twofa.manage.self", "session.revoke.self", "notify.preferences.update.self"}
    own_account |= {"phone.verify.start", "phone.verify.confirm"}
    for code in viewer - own_account:
        assert code.endswith((".read", ".view", ".read.self")), code
    assert viewer < ROLE_TEMPLATES["staff"]


def test_role_ladders() -> None:
    staff, agent, manager = (ROLE_TEMPLATES[r] for r in ("staff", "sales_agent", "sales_manager"))
    assert staff < agent < manager
    assert "ops.runs.read" in manager and "ops.runs.manage" not in manager
    assert {"approvals.decide", "approvals.requests.read"} <= manager
    assert {"billing.view", "billing.view_invoices"} <= ROLE_TEMPLATES["finance_manager"]
    assert "unit.price.update" in ROLE_TEMPLATES["inventory_manager"]
    assert "campaign.send" in ROLE_TEMPLATES["marketing_manager"]
    assert "deal.delete" not in staff and "contact.delete" not in agent


def test_plan_keys_are_well_formed() -> None:
    assert set(PLANS) == {"DevFree", "DevPro"}
    for code, plan in PLANS.items():
        assert plan.code == code
        assert plan.features <= FEATURES
        assert set(plan.limits) <= LIMIT_KEYS
        # `plan_features` is unique on (plan_id, feature): a key is a flag or a limit.
        assert not plan.features & set(plan.limits), code
        assert all(KEY.match(key) for key in plan.features | set(plan.limits)), code
        assert all(value >= 0 for value in plan.limits.values()), code


def test_pro_plan_includes_free_plan() -> None:
    free, pro = PLANS["DevFree"], PLANS["DevPro"]
    assert free.tier < pro.tier
    assert free.features <= pro.features
    assert pro.features == FEATURES
    for key in free.limits.keys() & pro.limits.keys():
        assert pro.limits[key] >= free.limits[key], key


def test_dev_plans_as_the_spec_lists_them() -> None:
    """Section 1 §7, DECISIONS §3.3, §3.5, §3A.4, §12.1."""
    free, pro = PLANS["DevFree"], PLANS["DevPro"]
    assert {"twofa.totp", "plan.view"} <= free.features
    assert {"twofa.totp", "twofa.sms", "twofa.whatsapp", "plan.view"} <= pro.features
    assert free.limits["users.max"] == 3
    assert pro.limits["users.max"] == 25
    assert pro.limits["sms.monthlyCap"] == pro.limits["whatsapp.monthlyCap"] == 500
    # "All SMS/WA off" on DevFree.
    assert not {f for f in free.features if "sms" in f.lower() or "whatsapp" in f.lower()}
    assert not {k for k in free.limits if k.startswith(("sms.", "whatsapp."))}
    assert free.limits["contacts.customFields.max"] == 10
    assert pro.limits["contacts.customFields.max"] == 100
    assert "contacts.privateRecords" in pro.features - free.features
    assert "admin.customDictionaries" in pro.features - free.features
    assert free.limits["approvals.activePolicies.max"] == 2
    assert "approvals.parallelSteps" in pro.features - free.features


def spec_permission_codes() -> set[str]:
    """Backticked codes under every "Permission…"/"…RBAC…" heading of the spec."""
    codes: set[str] = set()
    for _heading, line in spec_sections(r"Permission|RBAC"):
        codes |= set(re.findall(r"`([a-z][a-zA-Z]*(?:\.[a-zA-Z_]+)+)`", line))
    return codes


def spec_named_codes() -> set[str]:
    """Codes outside permission sections: "`reports.export` permission" (Appendix D §7),
    `usePermission('deal.create')` (Section 15 §4), `"permissions": ["deals.view"]`
    (Appendix D §1)."""
    text = SPEC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z][a-zA-Z_.]+)` permission", text))
    named |= set(re.findall(r"usePermission\('([^']+)'\)", text))
    for listed in re.findall(r'"permissions":\s*\[([^\]]*)\]', text):
        named |= set(re.findall(r'"([^"]+)"', listed))
    return named


def spec_plan_keys() -> set[str]:
    """Backticked feature/limit keys under every "…Entitlements…"/"Feature Flags…" heading."""
    keys: set[str] = set()
    for _heading, line in spec_sections(r"Entitlements|Feature Flags"):
        for token in re.findall(r"`([^`]+)`", line):
            found = re.fullmatch(r"([a-z][a-zA-Z]*(?:\.[a-z][a-zA-Z]*)*)(?:=\d+)?", token)
            if found and ("." in token or token.startswith(("max", "snapshot"))):
                keys.add(found.group(1))
    return keys


@needs_spec
def test_every_code_of_the_spec_permission_sections_is_registered() -> None:
    codes = spec_permission_codes()
    assert len(codes) > 100  # the scan found the sections
    # "RBAC & Entitlements" (Section 2 §8) and "Feature Flags & RBAC" (Section 15 §4) also
    # name plan features and limits.
    missing = codes - set(PERMISSIONS) - FEATURES - LIMIT_KEYS
    assert not missing, sorted(missing)


@needs_spec
def test_codes_named_anywhere_in_the_spec_are_registered() -> None:
    named = spec_named_codes()
    assert {"reports.export", "deal.create", "deals.view"} <= named
    assert not {c for c in named if c not in PERMISSIONS and c not in PERMISSION_ALIASES}


@needs_spec
def test_no_code_is_invented() -> None:
    """Every registered code is the spec's, or one of the declared project additions."""
    from_spec = spec_permission_codes() | spec_named_codes()
    assert set(PERMISSIONS) - from_spec == PROJECT_ADDITIONS
    assert not PROJECT_ADDITIONS & from_spec  # an addition the spec now names: use its code


@needs_spec
def test_every_feature_and_limit_the_spec_names_is_in_a_plan() -> None:
    keys = spec_plan_keys()
    assert len(keys) > 40  # the scan found the sections
    # `usePermission('deal.create')` sits beside `useFeature(...)` in Section 15 §4.
    missing = keys - FEATURES - LIMIT_KEYS - set(PERMISSIONS)
    assert not missing, sorted(missing)


@needs_spec
def test_no_plan_key_is_invented() -> None:
    """Every plan key is the spec's, or one of the declared project keys."""
    keys = spec_plan_keys()
    assert (FEATURES | LIMIT_KEYS) - keys == PROJECT_KEYS
    assert not PROJECT_KEYS & keys
