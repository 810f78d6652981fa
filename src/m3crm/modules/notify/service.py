"""Wiring of the notifications core into the kernel."""

from __future__ import annotations

from m3crm.kernel.i18n import N_
from m3crm.kernel.runs.hooks import on_run_finished
from m3crm.modules.notify.run_notices import notify_initiator
from m3crm.web.nav import NavItem, register_nav


def register() -> None:
    on_run_finished(notify_initiator)
    register_nav(
        NavItem(
            "notifications",
            N_("Notifications"),
            "/notifications",
            "notify.inbox.read.self",
            icon="bell",
            order=10,
            badge_url="/notifications/badge",
        )
    )
    register_nav(
        NavItem(
            "messages",
            N_("Messages"),
            "/monitoring/messages",
            "notify.outbox.read",
            icon="queue",
            section="operations",
            order=81,
        )
    )
    register_nav(
        NavItem(
            "templates",
            N_("Templates"),
            "/settings/templates",
            "notify.templates.manage",
            icon="document",
            section="admin",
            order=90,
        )
    )
    register_nav(
        NavItem(
            "notification-policies",
            N_("Notification policies"),
            "/settings/notification-policies",
            ("notify.policies.manage", "twofa.manage.tenant"),
            icon="bell",
            section="admin",
            order=91,
        )
    )
