"""The permission registry: every code the spec names, in one place.

Routes may only `require()` a code listed here (checked at import), so a typo fails at
start-up, not in production. Groups follow the spec sections that define them.
`ROLE_TEMPLATES` are the roles seeded into every tenant (DECISIONS §1.2, §12.2); tenants
edit their copies, the templates stay as shipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class PermissionDef:
    code: str
    area: str
    description: str


def _group(area: str, *entries: tuple[str, str]) -> list[PermissionDef]:
    return [PermissionDef(code, area, description) for code, description in entries]


_ALL: list[PermissionDef] = [
    # Spec §1.5 — tenant, auth, RBAC & sessions
    *_group(
        "users",
        ("user.invite", "Invite users to the organisation."),
        ("user.read", "See the organisation's users."),
        ("user.update", "Edit users."),
        ("user.delete", "Remove users."),
        ("role.read", "See roles and their permissions."),
        ("role.assign", "Give roles to users and take them away."),
        ("plan.view", "See the plan, its features, limits and usage."),
        ("session.read.self", "See one's own sessions."),
        ("session.revoke.self", "Sign out one's own sessions."),
        ("session.revoke.tenant", "Sign out any session in the organisation."),
        ("twofa.manage.self", "Set up one's own two-factor sign-in."),
        ("twofa.manage.tenant", "Manage two-factor sign-in for the organisation."),
        ("phone.verify.start", "Start verifying a mobile number."),
        ("phone.verify.confirm", "Confirm a mobile number with its code."),
    ),
    # Spec §2.8 and §15 — notifications
    *_group(
        "notifications",
        ("notify.templates.manage", "Edit message templates."),
        ("notify.templates.approve", "Approve message templates."),
        ("notify.send.test", "Send test messages."),
        ("notify.outbox.read", "See the outbox of sent messages."),
        ("notify.inbox.read.self", "Read one's own in-app inbox."),
        ("notify.inbox.read.tenant", "Read every inbox of the organisation."),
        ("notify.preferences.update.self", "Change one's own notification preferences."),
        ("notify.preferences.update.user", "Change other users' notification preferences."),
        ("notify.policies.manage", "Manage notification policies."),
        ("notify.suppression.read", "See the suppression list."),
        ("notify.suppression.manage", "Edit the suppression list."),
        ("notify.digests.manage", "Manage digests."),
        ("notify.routing.preview", "Preview how a notification would be routed."),
    ),
    # Spec §3.5 — contacts & companies
    *_group(
        "contacts",
        ("contact.read", "See contacts."),
        ("contact.create", "Create contacts."),
        ("contact.update", "Edit contacts."),
        ("contact.delete", "Delete contacts."),
        ("contact.merge", "Merge duplicate contacts."),
        ("contact.consent.manage", "Record and change consent."),
        ("company.read", "See companies."),
        ("company.create", "Create companies."),
        ("company.update", "Edit companies."),
        ("company.delete", "Delete companies."),
        ("customfields.manage", "Define custom fields."),
    ),
    # Spec §3A.5 — groups, role trees & approvals
    *_group(
        "access",
        ("groups.manage", "Create and edit groups."),
        ("groups.members.manage", "Change group membership."),
        ("roles.hierarchy.manage", "Arrange the role hierarchy."),
        ("roles.manage", "Create and edit roles."),
        ("entitlements.view", "See effective entitlements."),
        ("entitlements.overrides.manage", "Override entitlements per group or user."),
        ("seats.view", "See seat usage."),
        ("approvals.policies.manage", "Define approval policies."),
        ("approvals.requests.read", "See approval requests."),
        ("approvals.decide", "Approve or reject requests."),
    ),
    # Spec §17.6 — user administration
    *_group(
        "users",
        ("user.manage", "Administer users."),
        ("user.suspend", "Suspend users."),
        ("user.deactivate", "Deactivate users."),
        ("user.reinstate", "Reinstate suspended or deactivated users."),
        ("user.forceLogout", "Sign a user out everywhere."),
    ),
    # Spec §4.5 — activities & tasks
    *_group(
        "activities",
        ("activity.read", "See activities."),
        ("activity.create", "Log activities."),
        ("activity.update", "Edit activities."),
        ("activity.delete", "Delete activities."),
        ("task.read", "See tasks."),
        ("task.create", "Create tasks."),
        ("task.update", "Edit tasks."),
        ("task.delete", "Delete tasks."),
        ("task.complete", "Complete tasks."),
    ),
    # Spec §5.5 — deals & pipelines
    *_group(
        "deals",
        ("pipeline.manage", "Create and edit pipelines and stages."),
        ("deal.read", "See deals."),
        ("deal.create", "Create deals."),
        ("deal.update", "Edit deals."),
        ("deal.delete", "Delete deals."),
        ("deal.stage.move", "Move deals between stages."),
        ("deal.mark.win", "Mark deals won."),
        ("deal.mark.loss", "Mark deals lost."),
    ),
    # Spec §7.5 — leads
    *_group(
        "leads",
        ("lead.read", "See leads."),
        ("lead.create", "Create leads."),
        ("lead.update", "Edit leads."),
        ("lead.delete", "Delete leads."),
        ("lead.convert", "Convert leads to contacts and deals."),
        ("lead.import", "Import leads."),
    ),
    # Spec §12.5 — property inventory
    *_group(
        "inventory",
        ("project.manage", "Create and edit projects."),
        ("building.manage", "Create and edit buildings."),
        ("unit.read", "See units."),
        ("unit.update", "Edit units."),
        ("unit.delete", "Delete units."),
        ("unit.price.update", "Change unit prices."),
        ("unit.status.update", "Change unit status."),
        ("unit.component.manage", "Manage unit components."),
        ("code.manage", "Manage inventory codes."),
    ),
    # Spec §13.5 — map overlay & unit mapping
    *_group(
        "maps",
        ("overlay.read", "See plans and maps."),
        ("overlay.manage", "Upload and edit overlays."),
        ("overlay.publish", "Publish overlays."),
        ("layer.manage", "Manage overlay layers."),
        ("shape.manage", "Draw and edit shapes."),
        ("shape.link", "Link shapes to units."),
        ("shape.validate", "Validate shapes."),
    ),
    # Spec §11.5 — campaigns
    *_group(
        "campaigns",
        ("campaign.view", "See campaigns."),
        ("campaign.manage", "Create and edit campaigns."),
        ("campaign.send", "Send campaigns."),
        ("campaign.email", "Use the e-mail channel in campaigns."),
        ("campaign.sms", "Use the SMS channel in campaigns."),
        ("campaign.whatsapp", "Use the WhatsApp channel in campaigns."),
        ("campaign.inapp", "Use the in-app channel in campaigns."),
    ),
    # Spec §16.6 — telemarketing
    *_group(
        "telemarketing",
        ("telemarketing.manage_campaigns", "Manage call campaigns."),
        ("telemarketing.manage_lists", "Manage call lists."),
        ("telemarketing.make_calls", "Make calls."),
        ("telemarketing.listen_recordings", "Listen to call recordings."),
    ),
    # Spec §18.13 — billing; §14 — reports
    *_group(
        "billing",
        ("billing.view", "See the subscription."),
        ("billing.view_invoices", "See invoices."),
        ("billing.manage_promos", "Manage promotion codes."),
        ("billing.preview", "Preview plan changes."),
    ),
    *_group("reports", ("reports.export", "Export reports.")),
    # Project additions (no spec code exists; see docs/decisions.md)
    *_group(
        "operations",
        ("ops.runs.read", "See the organisation's background work (Monitoring)."),
        ("ops.runs.manage", "Requeue failed background work."),
        ("audit.read", "See the audit trail."),
        ("audit.export", "Export the audit trail."),
    ),
]

PERMISSIONS: Final[Mapping[str, PermissionDef]] = {p.code: p for p in _ALL}


def _codes(*prefixes: str) -> frozenset[str]:
    return frozenset(c for c in PERMISSIONS if c.startswith(prefixes))


_READS = frozenset(
    c for c in PERMISSIONS if c.endswith((".read", ".view", ".read.self")) or c == "plan.view"
)
_SELF = frozenset(
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
_STAFF = _SELF | {
    "contact.read",
    "contact.create",
    "contact.update",
    "company.read",
    "company.create",
    "company.update",
    "lead.read",
    "lead.create",
    "lead.update",
    "deal.read",
    "deal.create",
    "deal.update",
    "unit.read",
    "overlay.read",
    "campaign.view",
    *_codes("activity.", "task."),
}

ROLE_TEMPLATES: Final[Mapping[str, frozenset[str]]] = {
    "super_admin": frozenset(PERMISSIONS),
    "admin": frozenset(PERMISSIONS) - {"billing.manage_promos"},
    "staff": frozenset(_STAFF),
    "sales_agent": frozenset(
        _STAFF | {"deal.stage.move", "lead.convert", "telemarketing.make_calls"}
    ),
    "sales_manager": frozenset(
        _STAFF
        | _codes("deal.", "lead.", "contact.", "company.")
        | {
            "pipeline.manage",
            "approvals.requests.read",
            "approvals.decide",
            "reports.export",
            "user.read",
            "ops.runs.read",
            "telemarketing.manage_campaigns",
            "telemarketing.manage_lists",
            "telemarketing.make_calls",
            "telemarketing.listen_recordings",
        }
    ),
    "finance_manager": frozenset(
        _SELF
        | _codes("billing.")
        | {"plan.view", "seats.view", "entitlements.view", "reports.export", "deal.read"}
        | {"approvals.requests.read", "approvals.decide", "unit.read"}
    ),
    "inventory_manager": frozenset(
        _SELF
        | _codes("unit.", "overlay.", "shape.")
        | {"project.manage", "building.manage", "code.manage", "layer.manage", "ops.runs.read"}
        | {"approvals.requests.read", "approvals.decide"}
    ),
    "marketing_manager": frozenset(
        _SELF
        | _codes("campaign.", "notify.templates.", "notify.suppression.")
        | {"contact.read", "lead.read", "lead.import", "reports.export", "ops.runs.read"}
    ),
    "viewer": frozenset(_READS - {"notify.inbox.read.tenant"}),
}


def is_known_permission(code: str) -> bool:
    return code in PERMISSIONS
