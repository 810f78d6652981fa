"""Record-level rules of Section 3 §5: "Owner or Admin can edit; all staff can view";
private contacts are seen by their owner only.

"Admin" here is whoever holds the module's delete right (`contact.delete` for contacts,
`company.delete` for companies): the role templates give it to admins and sales managers,
never to staff. Record visibility scopes (DECISIONS §12.3, `kernel.visibility`) narrow
what a person sees to the owners their roles admit, for contacts and companies alike;
every rule of this kind lives in this file.
"""

from __future__ import annotations

from collections.abc import Set
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import AuthSubject
from m3crm.kernel.visibility import owner_condition
from m3crm.modules.contacts.models import Company, Contact
from m3crm.modules.contacts.repository import Viewer

CONTACT_ADMIN = "contact.delete"
COMPANY_ADMIN = "company.delete"


CONTACT_TYPE = "contact"
COMPANY_TYPE = "company"


async def viewer(session: AsyncSession, subject: AuthSubject) -> Viewer:
    """Who is looking, with the owners their contact visibility scope admits."""
    return Viewer(
        user_id=subject.user_id,
        sees_all=subject.can(CONTACT_ADMIN),
        owner_scope=await owner_condition(session, subject, CONTACT_TYPE, Contact.owner_user_id),
    )


async def company_scope(session: AsyncSession, subject: AuthSubject) -> ColumnElement[bool] | None:
    """The owners the subject's company visibility scope admits (None: all)."""
    return await owner_condition(session, subject, COMPANY_TYPE, Company.owner_user_id)


def sees_contact(user_id: UUID, permissions: Set[str], contact: Contact) -> bool:
    """`can_see_contact` for any user, given the codes they hold (followers' notices)."""
    return (
        not contact.is_private or contact.owner_user_id == user_id or CONTACT_ADMIN in permissions
    )


def can_see_contact(subject: AuthSubject, contact: Contact) -> bool:
    """The row-level twin of `ContactRepository.live_statement`'s privacy filter."""
    return sees_contact(subject.user_id, subject.permissions, contact)


def can_manage_followers(subject: AuthSubject, contact: Contact) -> bool:
    """Who may add or remove *other* people as followers: the owner or an admin
    (anyone who sees a contact may follow and unfollow it themselves)."""
    return contact.owner_user_id == subject.user_id or subject.can(CONTACT_ADMIN)


def can_edit_contact(subject: AuthSubject, contact: Contact) -> bool:
    """Unowned contacts are everybody's; owned ones their owner's and admins'."""
    return contact.owner_user_id in (None, subject.user_id) or subject.can(CONTACT_ADMIN)


def can_edit_company(subject: AuthSubject, company: Company) -> bool:
    return company.owner_user_id in (None, subject.user_id) or subject.can(COMPANY_ADMIN)
