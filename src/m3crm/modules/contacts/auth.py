"""Who may call what (Section 3 §5): one alias per permission code, and the dependencies
that fetch a contact scoped *before* the body is validated (so another tenant's id is a
404 whatever the body holds)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends

from m3crm.kernel.auth import AuthSubject, DbSession, require
from m3crm.modules.contacts.contacts import contact as contact_service
from m3crm.modules.contacts.models import Contact

ContactsRead = Annotated[AuthSubject, Depends(require("contact.read"))]
ContactsCreate = Annotated[AuthSubject, Depends(require("contact.create"))]
ContactsUpdate = Annotated[AuthSubject, Depends(require("contact.update"))]
ContactsDelete = Annotated[AuthSubject, Depends(require("contact.delete"))]
ContactsMerge = Annotated[AuthSubject, Depends(require("contact.merge"))]
ConsentManage = Annotated[AuthSubject, Depends(require("contact.consent.manage"))]
CompaniesRead = Annotated[AuthSubject, Depends(require("company.read"))]
CompaniesCreate = Annotated[AuthSubject, Depends(require("company.create"))]
CompaniesUpdate = Annotated[AuthSubject, Depends(require("company.update"))]
CompaniesDelete = Annotated[AuthSubject, Depends(require("company.delete"))]


_may_export = require("reports.export")


async def contacts_exporter(subject: ContactsRead) -> AuthSubject:
    """Exporting a list needs `contact.read` and `reports.export`."""
    return await _may_export(subject)


ContactsExport = Annotated[AuthSubject, Depends(contacts_exporter)]


async def editable_contact(
    contact_id: UUID, session: DbSession, subject: ContactsUpdate
) -> Contact:
    return await contact_service.get_for_update(session, subject, contact_id)


async def readable_contact(contact_id: UUID, session: DbSession, subject: ContactsRead) -> Contact:
    return await contact_service.get_readable(session, subject, contact_id)


async def consent_contact(contact_id: UUID, session: DbSession, subject: ConsentManage) -> Contact:
    """Consent is recorded by whoever manages consent, owner or not (marketing)."""
    return await contact_service.get_readable(session, subject, contact_id)


EditableContact = Annotated[Contact, Depends(editable_contact)]
ConsentContact = Annotated[Contact, Depends(consent_contact)]
ReadableContact = Annotated[Contact, Depends(readable_contact)]
