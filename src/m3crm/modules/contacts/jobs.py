"""The `contacts.import` run: check every row again, then write all of them or none.

The handler runs in the run's transaction (committed with its success): any invalid
row, or going past `contacts.max`, raises a domain error, the transaction rolls back
and the run ends `failed` with the reason — nothing half-imported. Rows are written in
chunks of multi-row INSERTs, reporting progress after each chunk.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from m3crm.kernel.audit import EntityRef, record
from m3crm.kernel.entitlements import load_entitlements
from m3crm.kernel.errors import LimitReached, ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId, new_id
from m3crm.kernel.runs.context import RunContext
from m3crm.kernel.runs.registry import run_handler
from m3crm.modules.contacts.contacts import CONTACTS_MAX
from m3crm.modules.contacts.import_rows import CHUNK, RowResult
from m3crm.modules.contacts.imports import IMPORT_RUN, imports
from m3crm.modules.contacts.models import Contact, ContactChannel, ContactLink, Lifecycle
from m3crm.modules.contacts.repository import ContactRepository
from m3crm.modules.contacts.repository_imports import ImportRepository
from m3crm.modules.customfields.models import CustomFieldValue, EntityType


def _rows(
    tenant_id: TenantId, owner: UUID, chunk: list[RowResult]
) -> dict[str, list[dict[str, Any]]]:
    """The INSERT rows of a chunk, one list per table."""
    tables: dict[str, list[dict[str, Any]]] = {
        "contacts": [],
        "channels": [],
        "links": [],
        "values": [],
    }
    for row in chunk:
        contact_id = new_id()
        values = row.values
        tables["contacts"].append({
            "tenant_id": tenant_id, "id": contact_id, "first_name": values["first_name"],
            "last_name": values.get("last_name") or "", "job_title": values.get("job_title"),
            "company_id": values.get("company_id"), "owner_user_id": owner,
            "lifecycle_stage": values.get("lifecycle_stage", Lifecycle.LEAD),
            "is_private": False, "source": values.get("source") or "import",
        })  # fmt: skip
        if values.get("company_id"):
            tables["links"].append({
                "tenant_id": tenant_id, "id": new_id(), "contact_id": contact_id,
                "company_id": values["company_id"], "is_primary": True,
            })  # fmt: skip
        seen: set[Any] = set()
        for kind, value, normalized in row.channels:
            tables["channels"].append({
                "tenant_id": tenant_id, "id": new_id(), "contact_id": contact_id, "type": kind,
                "value": value, "normalized_value": normalized, "is_primary": kind not in seen,
                "opt_in": False,
            })  # fmt: skip
            seen.add(kind)
        for defn, clean in row.custom:
            tables["values"].append({
                "tenant_id": tenant_id, "id": new_id(), "entity_type": EntityType.CONTACT,
                "entity_id": contact_id, "field_id": defn.id, "value": clean.value,
                "value_text": clean.text, "unique_key": clean.text if defn.is_unique else None,
            })  # fmt: skip
    return tables


@run_handler(IMPORT_RUN, permission="contact.create")
async def import_contacts(ctx: RunContext) -> dict[str, Any]:
    tenant_id = ctx.subject.tenant_id
    repo = ImportRepository(ctx.session, tenant_id)
    upload = await repo.get(UUID(str(ctx.payload["import_id"])))
    if upload is None:
        return {"imported": 0, "reason": "the import was deleted"}
    results = await imports.check(ctx.session, ctx.subject, upload)
    skip = bool(ctx.payload.get("skip_duplicates"))
    skipped = [r for r in results if not r.ok and skip and r.duplicate_of and len(r.errors) == 1]
    invalid = [r for r in results if not r.ok and r not in skipped]
    if invalid:
        raise ValidationFailed(
            {"file": N_("Some rows are invalid; nothing was imported.")},
            message=f"{len(invalid)} invalid rows (first at line {invalid[0].line})",
        )
    good = [r for r in results if r.ok]
    entitlements = await load_entitlements(ctx.session, tenant_id)
    limit = entitlements.limits.get(CONTACTS_MAX, 0)
    if await ContactRepository(ctx.session, tenant_id).count_live() + len(good) > limit:
        raise LimitReached(CONTACTS_MAX, limit)
    await ctx.report_progress(0, len(good))
    for start in range(0, len(good), CHUNK):
        tables = _rows(tenant_id, ctx.subject.user_id, good[start : start + CHUNK])
        await repo.insert_many(Contact, tables["contacts"])
        await repo.insert_many(ContactChannel, tables["channels"])
        await repo.insert_many(ContactLink, tables["links"])
        await repo.insert_many(CustomFieldValue, tables["values"])
        await ctx.report_progress(min(start + CHUNK, len(good)), len(good))
    summary = {"imported": len(good), "skipped_duplicates": len(skipped)}
    await record(
        ctx.session, ctx.subject, "contact.imported", EntityRef("contact_import", upload.id),
        None, summary | {"filename": upload.filename},
    )  # fmt: skip
    return summary
