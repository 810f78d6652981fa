"""Every lookup that runs before a tenant is known (ARCHITECTURE §2.10), in one place.

Each is a `SECURITY DEFINER` function owned by `m3crm_definer`, a NOLOGIN role without
BYPASSRLS: it reads tenant tables only through SELECT policies written for it, on the
columns granted to it, and returns the minimum its caller needs. The application role
may execute these functions and nothing else of the definer's reach; it never bypasses
RLS itself. Migrations create them with `create_statements`; tests check the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from m3crm.kernel.db.rls import APP_GROUP_ROLE

DEFINER_ROLE: Final = "m3crm_definer"


@dataclass(frozen=True, slots=True)
class DefinerFunction:
    """`signature` is `name(arg types)`; `body` is one SQL statement."""

    name: str
    arguments: str
    returns: str
    body: str
    purpose: str

    @property
    def signature(self) -> str:
        types = ", ".join(part.split()[-1] for part in self.arguments.split(", ") if part)
        return f"{self.name}({types})"

    def create_statements(self) -> list[str]:
        return [
            f"CREATE FUNCTION {self.name}({self.arguments}) RETURNS {self.returns}"
            " LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp"
            f" AS $$ {self.body} $$",
            f"COMMENT ON FUNCTION {self.signature} IS '{self.purpose}'",
            f"ALTER FUNCTION {self.signature} OWNER TO {DEFINER_ROLE}",
            f"REVOKE ALL ON FUNCTION {self.signature} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {self.signature} TO {APP_GROUP_ROLE}",
        ]

    def drop_statement(self) -> str:
        return f"DROP FUNCTION {self.signature}"


def create_definer_role() -> list[str]:
    """The owning role (cluster-wide, created once, never dropped by a downgrade)."""
    return [
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        f"'{DEFINER_ROLE}') THEN CREATE ROLE {DEFINER_ROLE} NOLOGIN NOBYPASSRLS; "
        "END IF; END $$",
        f"GRANT {DEFINER_ROLE} TO CURRENT_USER",
    ]


def definer_can_read(table: str, columns: str) -> list[str]:
    """Let the definer role read `columns` of `table` across tenants (SELECT only)."""
    return [
        f"GRANT SELECT ({columns}) ON {table} TO {DEFINER_ROLE}",
        f"CREATE POLICY definer_lookup ON {table} FOR SELECT TO {DEFINER_ROLE} USING (true)",
    ]


OUTBOX_DUE_TENANTS: Final = DefinerFunction(
    name="m3crm_outbox_due_tenants",
    arguments="p_limit integer",
    returns="SETOF uuid",
    body=(
        "SELECT DISTINCT tenant_id FROM messages_outbox WHERE status = 'queued'"
        " AND scheduled_at <= now() AND (claimed_until IS NULL OR claimed_until < now())"
        " LIMIT p_limit"
    ),
    purpose="Delivery pump: which tenants have messages due (ids only).",
)

OUTBOX_TENANT_BY_PROVIDER_ID: Final = DefinerFunction(
    name="m3crm_outbox_tenant_by_provider_id",
    arguments="p_provider text, p_message_id text",
    returns="uuid",
    body=(
        "SELECT tenant_id FROM messages_outbox WHERE provider = p_provider"
        " AND provider_message_id = p_message_id LIMIT 1"
    ),
    purpose="Provider webhooks: the tenant of the message a delivery report is about.",
)

OUTBOX_QUEUE_DEPTH: Final = DefinerFunction(
    name="m3crm_outbox_queue_depth",
    arguments="",
    returns="bigint",
    body="SELECT count(*) FROM messages_outbox WHERE status = 'queued' AND scheduled_at <= now()",
    purpose="Metrics: how many messages are due, all tenants together (a count only).",
)

LOGIN_CANDIDATES: Final = DefinerFunction(
    name="m3crm_login_candidates",
    arguments="p_email text",
    returns="TABLE(tenant_id uuid, user_id uuid, slug text, tenant_name text)",
    body=(
        "SELECT u.tenant_id, u.id, t.slug::text, t.name::text FROM users u"
        " JOIN tenants t ON t.id = u.tenant_id"
        " WHERE u.email = p_email::citext AND t.status = 'active' AND u.status = 'active'"
        " ORDER BY t.slug LIMIT 20"
    ),
    purpose="Login before the tenant is known: the workspaces where this e-mail may sign in.",
)

ALL: Final[tuple[DefinerFunction, ...]] = (
    LOGIN_CANDIDATES,
    OUTBOX_DUE_TENANTS,
    OUTBOX_TENANT_BY_PROVIDER_ID,
    OUTBOX_QUEUE_DEPTH,
)
