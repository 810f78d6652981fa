"""Makers for contacts tests (also used by the isolation matrix)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.contacts.models import (
    ChannelType,
    Company,
    Contact,
    ContactChannel,
    ContactImport,
    ContactLink,
    Lifecycle,
    Segment,
    SegmentEntity,
)
from m3crm.modules.customfields.models import CustomFieldDef, EntityType, FieldType
from tests.conftest import World
from tests.factories import SeededTenant


async def make_company(
    session: AsyncSession,
    tenant: SeededTenant,
    *,
    name: str = "Nile Towers",
    domain: str | None = None,
    owner_id: UUID | None = None,
) -> Company:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    company = Company(tenant_id=tenant.id, name=name, domain=domain, owner_user_id=owner_id)
    session.add(company)
    await session.flush()
    return company


async def make_contact(
    session: AsyncSession,
    tenant: SeededTenant,
    *,
    first_name: str = "Ahmed",
    last_name: str = "Hassan",
    owner_id: UUID | None = None,
    email: str | None = None,
    phone: str | None = None,
    company_id: UUID | None = None,
    lifecycle: Lifecycle = Lifecycle.LEAD,
    is_private: bool = False,
) -> Contact:
    """`email` must be lower-case and `phone` E.164: they are stored as normalised."""
    await bind_tenant(session, tenant.id, tenant.admin_id)
    contact = Contact(
        tenant_id=tenant.id,
        first_name=first_name,
        last_name=last_name,
        owner_user_id=owner_id,
        company_id=company_id,
        lifecycle_stage=lifecycle,
        is_private=is_private,
    )
    session.add(contact)
    await session.flush()
    for kind, value in ((ChannelType.EMAIL, email), (ChannelType.PHONE, phone)):
        if value:
            session.add(
                ContactChannel(
                    tenant_id=tenant.id,
                    contact_id=contact.id,
                    type=kind,
                    value=value,
                    normalized_value=value,
                    is_primary=True,
                )
            )
    await session.flush()
    return contact


async def make_field(
    session: AsyncSession,
    tenant: SeededTenant,
    *,
    code: str,
    type: FieldType = FieldType.TEXT,
    entity: EntityType = EntityType.CONTACT,
    options: list[str] | None = None,
    required: bool = False,
    unique: bool = False,
) -> CustomFieldDef:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    defn = CustomFieldDef(
        tenant_id=tenant.id,
        entity_type=entity,
        code=code,
        label=code.title(),
        type=type,
        options=options or [],
        required=required,
        is_unique=unique,
    )
    session.add(defn)
    await session.flush()
    return defn


async def make_segment(
    session: AsyncSession,
    tenant: SeededTenant,
    *,
    name: str | None = None,
    definition: dict[str, Any] | None = None,
) -> Segment:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    segment = Segment(
        tenant_id=tenant.id,
        name=name or f"Customers {uuid4().hex[:8]}",
        entity_type=SegmentEntity.CONTACT,
        definition=definition
        or {
            "op": "and",
            "conditions": [{"field": "lifecycle_stage", "operator": "eq", "value": "customer"}],
        },
    )
    session.add(segment)
    await session.flush()
    return segment


async def audit_rows(
    session: AsyncSession, tenant: SeededTenant, action: str, entity_id: UUID
) -> list[Any]:
    await bind_tenant(session, tenant.id, None)
    rows = await session.execute(
        text(
            "SELECT before_data, after_data FROM audit_logs WHERE tenant_id = :t"
            " AND action = :a AND entity_id = :e ORDER BY id"
        ),
        {"t": tenant.id, "a": action, "e": str(entity_id)},
    )
    return list(rows.all())


async def contact_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return (await make_contact(session, world.a)).id, "contacts"


async def channel_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    contact = await make_contact(session, world.a, email=f"{uuid4().hex}@alpha.test")
    channel = (
        await session.execute(
            text("SELECT id FROM contact_channels WHERE tenant_id = :t AND contact_id = :c"),
            {"t": world.a.id, "c": contact.id},
        )
    ).scalar_one()
    assert isinstance(channel, UUID)
    return channel, "contact_channels"


async def company_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return (await make_company(session, world.a)).id, "companies"


async def segment_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return (await make_segment(session, world.a)).id, "segments"


async def import_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    await bind_tenant(session, world.a.id, world.a.admin_id)
    upload = ContactImport(
        tenant_id=world.a.id,
        filename="a.csv",
        content=b"first_name,last_name\nA,B\n",
        delimiter=",",
        columns=["first_name", "last_name"],
        row_count=1,
        mapping={"first_name": "first_name"},
        summary={"rows": 1, "valid": 1, "invalid": 0, "duplicates": 0, "only_duplicates": 0},
        created_by_user_id=world.a.admin_id,
    )
    session.add(upload)
    await session.flush()
    return upload.id, "contact_imports"


async def link_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    company = await make_company(session, world.a)
    contact = await make_contact(session, world.a, company_id=company.id)
    link = ContactLink(tenant_id=world.a.id, contact_id=contact.id, company_id=company.id)
    session.add(link)
    await session.flush()
    return link.id, "contact_links"


async def field_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    code = f"f{uuid4().hex[:12]}"
    return (await make_field(session, world.a, code=code)).id, "custom_field_defs"
