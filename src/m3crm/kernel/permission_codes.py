"""The permission registry: every code the spec names, in one place.

Routes may only `require()` a code listed here (checked at import), so a typo fails at
start-up, not in production. Codes are the spec's exact strings, grouped by area (the spec
capability); each group names the spec sections that define its codes. Codes that are not
in the spec sit in the last group, "project additions".

`ROLE_TEMPLATES` are the roles seeded into every tenant (DECISIONS §1.2, §12.2); tenants
edit their copies, the templates stay as shipped. Record-level rules ("owner can edit",
team scopes) are enforced by visibility scopes, not by these codes: a template grants
`contact.update`, the scope decides *which* contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from m3crm.kernel.i18n import N_


@dataclass(frozen=True, slots=True)
class PermissionDef:
    """`description` is an English msgid (marked with `N_`); screens translate it."""

    code: str
    area: str
    description: str


AREA_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "auth": N_("Sign-in and security"),
        "users": N_("People"),
        "access": N_("Roles and groups"),
        "entitlements": N_("Plan and entitlements"),
        "notifications": N_("Notifications"),
        "contacts": N_("Contacts and companies"),
        "activities": N_("Activities and tasks"),
        "deals": N_("Deals and pipelines"),
        "leads": N_("Leads"),
        "inventory": N_("Inventory"),
        "maps": N_("Maps and plans"),
        "campaigns": N_("Campaigns"),
        "telemarketing": N_("Telemarketing"),
        "billing": N_("Billing"),
        "approvals": N_("Approvals"),
        "reports": N_("Reports"),
        "operations": N_("Background work"),
        "audit": N_("Audit trail"),
        "dictionaries": N_("Dictionaries"),
    }
)
"""Every area's label, in registry order (a screen lists areas in this order)."""


def _group(area: str, *entries: tuple[str, str]) -> list[PermissionDef]:
    return [PermissionDef(code, area, description) for code, description in entries]


_ALL: list[PermissionDef] = [
    # --- auth — Section 1 §5 (Permissions Matrix: Sessions, Security, Phone)
    *_group(
        "auth",
        ("session.read.self", N_("See one's own signed-in sessions.")),
        ("session.revoke.self", N_("Sign out one's own sessions.")),
        ("session.revoke.tenant", N_("Sign out any session in the organisation.")),
        ("twofa.manage.self", N_("Set up or turn off one's own two-factor sign-in.")),
        ("twofa.manage.tenant", N_("Manage two-factor sign-in policy for the organisation.")),
        ("phone.verify.start", N_("Start verifying one's mobile number.")),
        ("phone.verify.confirm", N_("Confirm one's mobile number with the code sent.")),
    ),
    # --- users — Section 1 §5 (User Admin); Section 12 §6 (Permissions (Admin Ops))
    *_group(
        "users",
        # Section 1 §5
        ("user.invite", N_("Invite people to the organisation.")),
        ("user.read", N_("See the organisation's users.")),
        ("user.update", N_("Edit users' profiles.")),
        ("user.delete", N_("Remove users.")),
        # Section 12 §6
        ("user.manage", N_("Create, edit and remove users.")),
        ("user.suspend", N_("Suspend users.")),
        ("user.deactivate", N_("Deactivate users.")),
        ("user.reinstate", N_("Reinstate suspended or deactivated users.")),
        ("user.forceLogout", N_("Sign a user out everywhere.")),
    ),
    # --- access — Section 1 §5 (RBAC); Section 3A §5 (Permission Codes); Section 12 §6
    *_group(
        "access",
        # Section 1 §5
        ("role.read", N_("See roles and their permissions.")),
        ("role.assign", N_("Give roles to users and take them away.")),
        # Section 12 §6
        ("roles.manage", N_("Create, edit and delete roles.")),
        # Section 3A §5 (also Section 12 §6)
        ("roles.hierarchy.manage", N_("Arrange the role hierarchy.")),
        ("groups.manage", N_("Create, edit and delete groups.")),
        ("groups.members.manage", N_("Add people to groups and remove them.")),
    ),
    # --- entitlements — Section 1 §5 (Plan/Entitlements); Section 3A §5; Section 12 §6
    *_group(
        "entitlements",
        ("plan.view", N_("See the plan, its features, limits and usage.")),  # Section 1 §5
        ("entitlements.view", N_("See effective entitlements.")),  # Section 12 §6
        # Section 3A §5 (also Section 12 §6)
        ("entitlements.overrides.manage", N_("Override entitlements per tenant, group or user.")),
        ("seats.view", N_("See seat usage.")),  # Section 12 §6
    ),
    # --- approvals — Section 3A §5 (Permission Codes)
    *_group(
        "approvals",
        ("approvals.policies.manage", N_("Define approval policies and their steps.")),
        ("approvals.requests.read", N_("See approval requests.")),
        ("approvals.decide", N_("Approve or reject approval requests.")),
    ),
    # --- notifications — Section 1 §5 (Notifications Admin); Section 2 §8 (RBAC &
    # Entitlements); Section 14 §12 (Permissions); Section 16 §6 (Permissions)
    *_group(
        "notifications",
        # Section 1 §5 (also Sections 2 §8, 14 §12, 16 §6)
        ("notify.templates.manage", N_("Create and edit message templates.")),
        ("notify.send.test", N_("Send test messages.")),
        # Section 2 §8
        ("notify.outbox.read", N_("See the outbox of messages sent by the organisation.")),
        ("notify.inbox.read.self", N_("Read one's own in-app inbox.")),
        ("notify.inbox.read.tenant", N_("Read any user's in-app inbox.")),
        ("notify.preferences.update.self", N_("Change one's own notification preferences.")),
        # Section 14 §12
        ("notify.preferences.update.user", N_("Change other users' notification preferences.")),
        ("notify.policies.manage", N_("Manage the organisation's notification policies.")),
        ("notify.templates.approve", N_("Approve message templates for use.")),
        ("notify.suppression.read", N_("See the suppression lists.")),
        ("notify.suppression.manage", N_("Add to and remove from the suppression lists.")),
        ("notify.digests.manage", N_("Manage digest subscriptions.")),
        # Section 16 §6
        ("notify.routing.preview", N_("Preview which channels a notification would use.")),
    ),
    # --- contacts — Section 3 §5 (Permissions & Visibility)
    *_group(
        "contacts",
        ("contact.read", N_("See contacts.")),
        ("contact.create", N_("Create contacts.")),
        ("contact.update", N_("Edit contacts.")),
        ("contact.delete", N_("Delete contacts.")),
        ("contact.merge", N_("Merge duplicate contacts.")),
        ("contact.consent.manage", N_("Record and change contacts' channel consent.")),
        ("company.read", N_("See companies.")),
        ("company.create", N_("Create companies.")),
        ("company.update", N_("Edit companies.")),
        ("company.delete", N_("Delete companies.")),
        ("customfields.manage", N_("Define custom fields.")),
    ),
    # --- activities — Section 4 §5 (Permissions & Visibility)
    *_group(
        "activities",
        ("activity.read", N_("See activities.")),
        ("activity.create", N_("Log activities.")),
        ("activity.update", N_("Edit activities.")),
        ("activity.delete", N_("Delete activities.")),
        ("task.read", N_("See tasks.")),
        ("task.create", N_("Create tasks.")),
        ("task.update", N_("Edit tasks.")),
        ("task.delete", N_("Delete tasks.")),
        ("task.complete", N_("Complete tasks.")),
    ),
    # --- deals — Section 5 §5 (Permissions & Visibility)
    *_group(
        "deals",
        ("pipeline.manage", N_("Create and edit pipelines and their stages.")),
        ("deal.read", N_("See deals.")),
        ("deal.create", N_("Create deals.")),
        ("deal.update", N_("Edit deals.")),
        ("deal.delete", N_("Delete deals.")),
        ("deal.stage.move", N_("Move deals between stages.")),
        ("deal.mark.win", N_("Mark deals won.")),
        ("deal.mark.loss", N_("Mark deals lost.")),
    ),
    # --- leads — Section 6 §5 (Permissions & Visibility)
    *_group(
        "leads",
        ("lead.read", N_("See leads.")),
        ("lead.create", N_("Create leads.")),
        ("lead.update", N_("Edit leads.")),
        ("lead.delete", N_("Delete leads.")),
        ("lead.convert", N_("Convert leads into contacts, companies and deals.")),
        ("lead.import", N_("Import leads from files.")),
    ),
    # --- inventory — Section 7 §5 (Permissions & Visibility)
    *_group(
        "inventory",
        ("project.manage", N_("Create and edit projects.")),
        ("building.manage", N_("Create and edit buildings.")),
        ("unit.read", N_("See units.")),
        ("unit.update", N_("Create and edit units.")),
        ("unit.delete", N_("Delete units.")),
        ("unit.price.update", N_("Change unit prices.")),
        ("unit.status.update", N_("Change unit status.")),
        ("unit.component.manage", N_("Manage unit components.")),
        ("code.manage", N_("Manage unit and component type codes.")),
    ),
    # --- maps — Section 8 §5 (Permissions & RBAC)
    *_group(
        "maps",
        ("overlay.read", N_("See map overlays and their shapes.")),
        ("overlay.manage", N_("Upload, align and edit map overlays.")),
        ("overlay.publish", N_("Publish map overlays as public views.")),
        ("layer.manage", N_("Manage overlay layers.")),
        ("shape.manage", N_("Draw and edit shapes.")),
        ("shape.link", N_("Link shapes to units and components.")),
        ("shape.validate", N_("Run shape validation.")),
    ),
    # --- campaigns — Section 9 §5 (Permissions)
    *_group(
        "campaigns",
        ("campaign.view", N_("See campaigns and their performance.")),
        ("campaign.manage", N_("Create and edit campaigns.")),
        ("campaign.send", N_("Send campaigns.")),
        ("campaign.email", N_("Use the e-mail channel in campaigns.")),
        ("campaign.sms", N_("Use the SMS channel in campaigns.")),
        ("campaign.whatsapp", N_("Use the WhatsApp channel in campaigns.")),
        ("campaign.inapp", N_("Use the in-app channel in campaigns.")),
    ),
    # --- telemarketing — Section 10 §6 (Permissions & RBAC)
    *_group(
        "telemarketing",
        ("telemarketing.manage_campaigns", N_("Manage call campaigns.")),
        ("telemarketing.manage_lists", N_("Manage call lists.")),
        ("telemarketing.make_calls", N_("Make and log calls.")),
        ("telemarketing.listen_recordings", N_("Listen to call recordings.")),
    ),
    # --- reports — Appendix D §7 (Global Filters & Drill-downs: "governed by
    # `reports.export` permission")
    *_group(
        "reports",
        ("reports.export", N_("Export reports and dashboard data.")),
    ),
    # --- billing — Section 13 §13 (Permissions)
    *_group(
        "billing",
        ("billing.view", N_("See the subscription and its usage.")),
        ("billing.view_invoices", N_("See invoices.")),
        ("billing.manage_promos", N_("Apply and remove promotion codes.")),
        ("billing.preview", N_("Preview the quote for the next period.")),
    ),
    # --- project additions (not in the spec; see docs/decisions.md)
    # The spec has no codes for the OperationRuns Monitoring screen (ARCHITECTURE §2.8),
    # and none for the audit-log viewer that Section 18 §7/§8 asks for ("admin-only",
    # "exportable"), nor for managing coded dictionaries; these fill the gaps.
    *_group(
        "operations",
        ("ops.runs.read", N_("See the organisation's background work (Monitoring).")),
        ("ops.runs.manage", N_("Requeue or cancel the organisation's background work.")),
    ),
    *_group(
        "audit",
        ("audit.read", N_("See and search the audit trail.")),
        ("audit.export", N_("Export the audit trail.")),
    ),
    # The spec names the plan feature `admin.customDictionaries` (Section 12 §9) but no
    # permission for editing the job-title and department dictionaries (DECISIONS §12.1).
    *_group(
        "dictionaries",
        ("dictionaries.manage", N_("Add, edit and deactivate job titles and departments.")),
    ),
]


def _index(defs: Iterable[PermissionDef]) -> Mapping[str, PermissionDef]:
    index: dict[str, PermissionDef] = {}
    for permission in defs:
        if permission.code in index:
            raise ValueError(f"permission code {permission.code!r} is registered twice")
        index[permission.code] = permission
    return MappingProxyType(index)


PERMISSIONS: Final[Mapping[str, PermissionDef]] = _index(_ALL)

# The codes of the "project additions" group above: every other code is the spec's.
PROJECT_ADDITIONS: Final[frozenset[str]] = frozenset(
    p.code for p in PERMISSIONS.values() if p.area in {"operations", "audit", "dictionaries"}
)

# Spec spellings that name an existing code rather than a new one. Appendix D §1 shows
# `"permissions": ["deals.view"]` in a widget example; the deals section (Section 5 §5)
# names that right `deal.read`. Not registered: routes require the canonical code.
PERMISSION_ALIASES: Final[Mapping[str, str]] = MappingProxyType({"deals.view": "deal.read"})


def is_known_permission(code: str) -> bool:
    return code in PERMISSIONS


def _area(*areas: str) -> frozenset[str]:
    return frozenset(p.code for p in PERMISSIONS.values() if p.area in areas)


def _prefixed(*prefixes: str) -> frozenset[str]:
    return frozenset(code for code in PERMISSIONS if code.startswith(prefixes))


# Acting on one's own account only; every seeded role has them (DECISIONS §1.3 can enforce
# 2FA for all users, so even a read-only user must be able to set it up).
SELF_SERVICE = frozenset(
    {
        "session.read.self",
        "session.revoke.self",
        "twofa.manage.self",
        "phone.verify.start",
        "phone.verify.confirm",
        "notify.inbox.read.self",
        "notify.preferences.update.self",
    }
)
# Reading the CRM's business records ("all staff can view unless restricted by team
# scopes": Section 3 §5, Section 7 §5).
_BUSINESS_READS = frozenset(
    {
        "contact.read",
        "company.read",
        "lead.read",
        "deal.read",
        "activity.read",
        "task.read",
        "unit.read",
        "overlay.read",
        "campaign.view",
    }
)
# Logging one's own work (Section 4 §5: "Owners can always read/update their own").
_TEAMWORK = frozenset(
    {"activity.create", "activity.update", "task.create", "task.update", "task.complete"}
)
# Creating and editing one's own records (the owner scope limits which ones).
_OWN_RECORDS = _TEAMWORK | {
    "contact.create",
    "contact.update",
    "company.create",
    "company.update",
    "lead.create",
    "lead.update",
    "deal.create",
    "deal.update",
}
_APPROVER = frozenset({"approvals.requests.read", "approvals.decide"})

# Codes the spec keeps from tenant admins. It has none: `twofa.manage.tenant` is
# "super/admin only" (Section 1 §5) and the only billing right withheld from tenant admins
# ("Provider admin restricted to system role", Section 13 §13) has no tenant code at all.
RESERVED_FOR_SUPER_ADMIN: Final[frozenset[str]] = frozenset()

_STAFF = SELF_SERVICE | _BUSINESS_READS | _OWN_RECORDS
_SALES_AGENT = _STAFF | {
    "deal.stage.move",
    "deal.mark.win",
    "deal.mark.loss",
    "lead.convert",
    "contact.consent.manage",
    "telemarketing.make_calls",
}

ROLE_TEMPLATES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "super_admin": frozenset(PERMISSIONS),
        "admin": frozenset(PERMISSIONS) - RESERVED_FOR_SUPER_ADMIN,
        "staff": _STAFF,
        "sales_agent": _SALES_AGENT,
        # Everything on sales records except defining custom fields (an admin setting).
        "sales_manager": (
            _SALES_AGENT
            | _area("contacts", "leads", "deals", "activities", "telemarketing")
            | _APPROVER
            | {"user.read", "reports.export", "ops.runs.read"}
        )
        - {"customfields.manage"},
        "finance_manager": SELF_SERVICE
        | _BUSINESS_READS
        | _TEAMWORK
        | _area("billing")
        | _APPROVER
        | {"plan.view", "entitlements.view", "seats.view", "reports.export"},
        "inventory_manager": SELF_SERVICE
        | _BUSINESS_READS
        | _TEAMWORK
        | _area("inventory", "maps")
        | _APPROVER
        | {"reports.export", "ops.runs.read"},
        "marketing_manager": SELF_SERVICE
        | _BUSINESS_READS
        | _TEAMWORK
        | _area("campaigns")
        | _prefixed("notify.suppression.")
        | _APPROVER
        | {
            "notify.templates.manage",
            "notify.send.test",
            "contact.consent.manage",
            "lead.create",
            "lead.update",
            "lead.import",
            "telemarketing.manage_campaigns",
            "telemarketing.manage_lists",
            "reports.export",
            "ops.runs.read",
        },
        # Counts zero seats (DECISIONS §12.2): reads business records, edits nothing but
        # its own account.
        "viewer": SELF_SERVICE | _BUSINESS_READS,
    }
)
