"""Record visibility scopes per role (issue 7; DECISIONS §12.3): reading and setting them,
and the source `kernel.visibility` asks when a CRM module filters its records."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.visibility import RECORD_TYPES, Scope, ScopeSource
from m3crm.modules.access import repository_visibility
from m3crm.modules.access.repository import RoleRepository

SOURCE = ScopeSource(
    scopes=repository_visibility.scopes_of,
    group_peers=repository_visibility.group_peer_user_ids_query,
    subordinates=repository_visibility.subordinate_user_ids_query,
)


async def role_scopes(
    session: AsyncSession, subject: AuthSubject, role_id: UUID
) -> dict[str, Scope]:
    """The role's scope for every registered record type (`all` where none is set).
    Another tenant's role is a 404."""
    await RoleRepository(session, subject.tenant_id).get_or_404(role_id)
    stored = await repository_visibility.role_scopes(session, subject.tenant_id, role_id)
    return {t: stored.get(t, Scope.ALL) for t in sorted(RECORD_TYPES)}


async def set_role_scopes(
    session: AsyncSession, subject: AuthSubject, role_id: UUID, scopes: dict[str, Scope]
) -> dict[str, Scope]:
    """Replace the role's scopes (types left out become `all`); audited
    `role.scopes.changed` with before and after. Effective on the next request."""
    unknown = sorted(set(scopes) - set(RECORD_TYPES))
    if unknown:
        raise ValidationFailed({"scopes": N_("There is no such record type.")})
    before = await role_scopes(session, subject, role_id)
    await repository_visibility.replace_role_scopes(session, subject.tenant_id, role_id, scopes)
    after = await role_scopes(session, subject, role_id)
    if after != before:
        await record(
            session, subject, "role.scopes.changed", EntityRef("role", role_id),
            {t: s.value for t, s in before.items()}, {t: s.value for t, s in after.items()},
        )  # fmt: skip
    return after
