"""Errors of the contacts capability (each maps to a spec code through its base)."""

from __future__ import annotations

from uuid import UUID

from m3crm.kernel.errors import Conflict, PermissionDenied
from m3crm.kernel.i18n import N_


class DuplicateChannel(Conflict):
    """Blocking dedupe (Section 3 §6): the address belongs to another live contact."""

    default_message = N_("Another contact already has this e-mail address or phone number.")

    def __init__(self, field: str, existing_id: UUID) -> None:
        super().__init__(details={"field": field, "existing_id": str(existing_id)})


class NotRecordOwner(PermissionDenied):
    default_message = N_("Only the owner or an administrator can change this record.")


class NumberStopped(Conflict):
    default_message = N_("This number asked not to receive SMS (STOP); it cannot be opted in.")


class MergedRecord(Conflict):
    default_message = N_("This contact was merged into another one.")

    def __init__(self, contact_id: UUID, merged_into_id: UUID) -> None:
        super().__init__(
            details={"contact_id": str(contact_id), "merged_into_id": str(merged_into_id)}
        )
