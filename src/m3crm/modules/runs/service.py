"""Wiring of the runs screens into the shell."""

from __future__ import annotations

from m3crm.kernel.i18n import N_
from m3crm.web.nav import NavItem, register_nav


def register() -> None:
    register_nav(
        NavItem(
            "runs",
            N_("Background jobs"),
            "/monitoring/runs",
            "ops.runs.read",
            icon="activity",
            section="operations",
            order=80,
        )
    )
