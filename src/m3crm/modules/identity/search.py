"""The `users` provider of global search: people of the tenant, for those who may list them.

Same permission as `GET /v1/admin/users` (`user.read`). Every status is found (an admin
looks up a suspended colleague too); the subtitle is the e-mail, followed by the status in
the searcher's language when the person cannot sign in.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.i18n import N_, gettext
from m3crm.kernel.tenancy.models import User, UserStatus
from m3crm.modules.identity.repository_users import UserRepository
from m3crm.modules.identity.users import STATUS_LABELS
from m3crm.modules.search.registry import SearchHit, SearchProvider

USERS_PATH = "/admin/users"
"""The People screen; a hit opens the person's page under it."""


def user_hit(user: User, locale: str) -> SearchHit:
    subtitle = user.email
    if user.status is not UserStatus.ACTIVE:
        subtitle += f" · {gettext(locale, STATUS_LABELS[user.status])}"
    return SearchHit(
        id=str(user.id),
        title=user.full_name or user.email,
        subtitle=subtitle,
        path=f"{USERS_PATH}/{user.id}",
    )


async def search_users(
    session: AsyncSession, subject: AuthSubject, folded: str, limit: int
) -> list[SearchHit]:
    users = await UserRepository(session, subject.tenant_id).search(folded, limit)
    return [user_hit(user, subject.card.locale) for user in users]


USERS_PROVIDER = SearchProvider(
    type="users", label=N_("Users"), permission="user.read", search=search_users, order=90
)
