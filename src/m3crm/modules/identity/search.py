"""The `users` provider of global search: people of the tenant, for those who may list them.

Same permission as `GET /v1/admin/users` (`user.read`). Every status is found (an admin
looks up a suspended colleague too); the subtitle says which.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.i18n import N_
from m3crm.kernel.tenancy.models import User
from m3crm.modules.identity.repository_users import UserRepository
from m3crm.modules.search.registry import SearchHit, SearchProvider

USERS_PATH = "/admin/users"
"""The user administration screen; a hit opens it filtered to that person's e-mail."""


def user_hit(user: User) -> SearchHit:
    return SearchHit(
        id=str(user.id),
        title=user.full_name or user.email,
        subtitle=f"{user.email} · {user.status.value}",
        path=f"{USERS_PATH}?{urlencode({'q': user.email})}",
    )


async def search_users(
    session: AsyncSession, subject: AuthSubject, folded: str, limit: int
) -> list[SearchHit]:
    users = await UserRepository(session, subject.tenant_id).search(folded, limit)
    return [user_hit(user) for user in users]


USERS_PROVIDER = SearchProvider(
    type="users", label=N_("Users"), permission="user.read", search=search_users, order=90
)
