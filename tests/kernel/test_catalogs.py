"""The permission registry and plan catalog are consistent with each other and the spec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from m3crm.kernel.permission_codes import PERMISSIONS, ROLE_TEMPLATES
from m3crm.kernel.plan_catalog import FEATURES, PLANS

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "M3CoreCRM-spec.md"
# Keys the spec lists inside permission sections that are plan features, not permissions.
SPEC_FEATURES_IN_PERMISSION_SECTIONS = {
    "notifications.sms",
    "notifications.whatsapp",
    "marketing.sms",
    "marketing.whatsapp",
    "sms.monthlyCap",
    "whatsapp.monthlyCap",
}


def test_codes_are_well_formed() -> None:
    pattern = re.compile(r"^[a-z][a-zA-Z]*(\.[a-zA-Z_]+)+$")
    assert all(pattern.match(code) for code in PERMISSIONS)


def test_role_templates_use_known_codes_and_super_admin_has_all() -> None:
    for role, codes in ROLE_TEMPLATES.items():
        assert codes <= set(PERMISSIONS), role
    assert ROLE_TEMPLATES["super_admin"] == set(PERMISSIONS)
    assert {"super_admin", "admin", "staff"} <= set(ROLE_TEMPLATES)


def test_viewer_only_reads() -> None:
    assert all(c.endswith((".read", ".view", ".self")) for c in ROLE_TEMPLATES["viewer"])


def test_pro_plan_includes_free_plan() -> None:
    free, pro = PLANS["DevFree"], PLANS["DevPro"]
    assert free.features <= pro.features <= FEATURES
    for key, limit in free.limits.items():
        assert pro.limits.get(key, 0) >= limit


@pytest.mark.skipif(not SPEC.exists(), reason="the shared spec is not beside the repo")
def test_every_code_of_the_spec_permission_sections_is_registered() -> None:
    text = SPEC.read_text(encoding="utf-8")
    codes: set[str] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith("#"):
            inside = bool(re.search(r"Permission|RBAC", line))
            continue
        if inside:
            codes |= set(re.findall(r"`([a-z][a-zA-Z]*(?:\.[a-zA-Z_]+)+)`", line))
    missing = codes - set(PERMISSIONS) - SPEC_FEATURES_IN_PERMISSION_SECTIONS
    assert not missing, sorted(missing)
