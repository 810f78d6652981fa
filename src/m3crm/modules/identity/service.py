"""Wiring of the identity capability into the kernel and the shell."""

from __future__ import annotations

from m3crm.kernel.auth import register_session_check
from m3crm.kernel.entitlements import register_limit_reporter, register_usage_source
from m3crm.kernel.i18n import N_
from m3crm.kernel.plan_catalog import SEATS
from m3crm.modules.identity import repository_seats, seats
from m3crm.modules.identity.preferences import shell_preferences
from m3crm.modules.identity.repository import session_live_query, verified_phone
from m3crm.modules.identity.search import USERS_PROVIDER
from m3crm.modules.notify.phone_policy import register_verified_phone_lookup
from m3crm.modules.search.registry import register_search_provider
from m3crm.web.commands import Command, register_command
from m3crm.web.nav import NavItem, register_nav
from m3crm.web.shell import register_preferences_loader


def register() -> None:
    register_usage_source(SEATS, repository_seats.seats_used, lock=repository_seats.lock_seats)
    register_limit_reporter(SEATS, seats.report_seat_limit)
    register_session_check(session_live_query)
    register_verified_phone_lookup(verified_phone)
    register_preferences_loader(shell_preferences)
    for command in (
        Command(
            "settings.display",
            N_("Display and language settings"),
            "/account/settings",
            None,
            "settings",
            icon="settings",
            order=10,
        ),
        Command(
            "settings.profile",
            N_("My profile"),
            "/account/profile",
            None,
            "settings",
            icon="user",
            order=20,
        ),
        Command(
            "settings.security",
            N_("Security and two-factor sign-in"),
            "/account/security",
            "twofa.manage.self",
            "settings",
            icon="shield",
            order=30,
        ),
        Command(
            "settings.sessions",
            N_("Signed-in devices"),
            "/account/sessions",
            "session.read.self",
            "settings",
            icon="devices",
            order=40,
        ),
    ):
        register_command(command)
    register_search_provider(USERS_PROVIDER)
    register_nav(
        NavItem(
            "users",
            N_("People"),
            "/admin/users",
            "user.read",
            icon="users",
            section="admin",
            order=85,
        )
    )
