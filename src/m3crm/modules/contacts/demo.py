"""Demo data of the contacts capability for the demo agency (`m3crm seed`).

Realistic Egyptian and Gulf records: Arabic and English names, E.164 mobiles of Egypt
(+20) and the UAE (+971), companies with domains, two custom fields and two segments.
Written through the ORM in the seeding transaction (already bound to the tenant).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.ids import TenantId
from m3crm.modules.contacts.models import (
    ChannelType,
    Company,
    Contact,
    ContactChannel,
    ContactLink,
    Lifecycle,
    Segment,
    SegmentEntity,
)
from m3crm.modules.customfields.models import (
    CustomFieldDef,
    CustomFieldValue,
    EntityType,
    FieldType,
)

COMPANIES = (
    ("Palm Hills Developments", "palmhills.test", "Cairo", "EG"),
    ("إعمار مصر", "emaar-misr.test", "القاهرة الجديدة", "EG"),
    ("Sodic", "sodic.test", "Sheikh Zayed", "EG"),
    ("مجموعة طلعت مصطفى", "tmg.test", "القاهرة", "EG"),
    ("Aldar Properties", "aldar.test", "Abu Dhabi", "AE"),
    ("داماك العقارية", "damac.test", "دبي", "AE"),
)
# (first, last, title, company index or None, stage, email, mobile, area, budget EGP/AED)
CONTACTS = (
    (
        "مُحَمَّد",
        "عبد الله",
        "مدير مشتريات",
        1,
        Lifecycle.CUSTOMER,
        "m.abdallah@emaar-misr.test",
        "+201001234501",
        "New Cairo",
        8_500_000,
    ),
    (
        "Sara",
        "El-Masry",
        "Investor",
        None,
        Lifecycle.PROSPECT,
        "sara.elmasry@mail.test",
        "+201112345602",
        "Sheikh Zayed",
        4_200_000,
    ),
    (
        "أحمد",
        "فؤاد",
        "مهندس",
        0,
        Lifecycle.LEAD,
        None,
        "+201223456703",
        "6th of October",
        3_000_000,
    ),
    (
        "Youssef",
        "Hamdy",
        "CFO",
        2,
        Lifecycle.CUSTOMER,
        "y.hamdy@sodic.test",
        "+201554567804",
        "Sheikh Zayed",
        12_000_000,
    ),
    (
        "فاطمة",
        "الزهراء",
        None,
        None,
        Lifecycle.LEAD,
        "fatma.z@mail.test",
        "+201005678905",
        "New Cairo",
        None,
    ),
    (
        "Khaled",
        "Al Mansouri",
        "Director",
        4,
        Lifecycle.PROSPECT,
        "k.mansouri@aldar.test",
        "+971501234506",
        "Saadiyat",
        2_500_000,
    ),
    (
        "نورة",
        "الكعبي",
        "مديرة تسويق",
        5,
        Lifecycle.CUSTOMER,
        "noura.k@damac.test",
        "+971551234507",
        "Dubai Marina",
        3_800_000,
    ),
    ("Omar", "Sherif", None, None, Lifecycle.LOST, None, "+201001234508", None, None),
    (
        "ياسمين",
        "إبراهيم",
        "محامية",
        3,
        Lifecycle.PROSPECT,
        "yasmin.ibrahim@tmg.test",
        "+201111234509",
        "Madinaty",
        6_000_000,
    ),
    (
        "Hassan",
        "Tawfik",
        "Broker",
        None,
        Lifecycle.INACTIVE,
        "hassan.t@mail.test",
        None,
        None,
        None,
    ),
    ("ريم", "السويدي", None, None, Lifecycle.LEAD, None, "+971521234511", "Jumeirah", 1_900_000),
    (
        "Mariam",
        "Adel",
        "Architect",
        0,
        Lifecycle.LEAD,
        "mariam.adel@palmhills.test",
        "+201271234512",
        "6th of October",
        5_500_000,
    ),
)
AREAS = [
    "New Cairo",
    "Sheikh Zayed",
    "6th of October",
    "Madinaty",
    "Saadiyat",
    "Dubai Marina",
    "Jumeirah",
]


async def seed_contacts(session: AsyncSession, tenant_id: TenantId, owners: Sequence[UUID]) -> None:
    companies = [
        Company(
            tenant_id=tenant_id,
            name=name,
            domain=domain,
            city=city,
            country=country,
            owner_user_id=owners[i % len(owners)],
        )
        for i, (name, domain, city, country) in enumerate(COMPANIES)
    ]
    session.add_all(companies)
    area = CustomFieldDef(
        tenant_id=tenant_id,
        entity_type=EntityType.CONTACT,
        code="preferred_area",
        label="Preferred area",
        type=FieldType.SELECT,
        options=AREAS,
        position=1,
    )
    budget = CustomFieldDef(
        tenant_id=tenant_id,
        entity_type=EntityType.CONTACT,
        code="budget",
        label="Budget",
        type=FieldType.NUMBER,
        options=[],
        position=2,
    )
    session.add_all([area, budget])
    await session.flush()
    for i, (first, last, title, company, stage, email, mobile, where, money) in enumerate(CONTACTS):
        company_id = companies[company].id if company is not None else None
        contact = Contact(
            tenant_id=tenant_id,
            first_name=first,
            last_name=last,
            job_title=title,
            company_id=company_id,
            owner_user_id=owners[i % len(owners)],
            lifecycle_stage=stage,
            source="demo",
        )
        session.add(contact)
        await session.flush()
        if company_id is not None:
            session.add(
                ContactLink(
                    tenant_id=tenant_id,
                    contact_id=contact.id,
                    company_id=company_id,
                    is_primary=True,
                )
            )
        consented = i % 3 == 0
        for kind, value in ((ChannelType.EMAIL, email), (ChannelType.PHONE, mobile)):
            if value:
                session.add(
                    ContactChannel(
                        tenant_id=tenant_id,
                        contact_id=contact.id,
                        type=kind,
                        value=value,
                        normalized_value=value,
                        is_primary=True,
                        opt_in=consented,
                        opt_in_source="demo" if consented else None,
                    )
                )
        if where:
            session.add(
                CustomFieldValue(
                    tenant_id=tenant_id,
                    entity_type=EntityType.CONTACT,
                    entity_id=contact.id,
                    field_id=area.id,
                    value=where,
                    value_text=where,
                )
            )
        if money:
            session.add(
                CustomFieldValue(
                    tenant_id=tenant_id,
                    entity_type=EntityType.CONTACT,
                    entity_id=contact.id,
                    field_id=budget.id,
                    value=money,
                    value_text=str(money),
                )
            )
    session.add_all(
        [
            Segment(
                tenant_id=tenant_id,
                name="Hot leads",
                entity_type=SegmentEntity.CONTACT,
                definition={
                    "op": "and",
                    "conditions": [
                        {
                            "field": "lifecycle_stage",
                            "operator": "in",
                            "value": ["lead", "prospect"],
                        },
                        {"field": "phone", "operator": "is_not_empty", "value": None},
                    ],
                },
            ),
            Segment(
                tenant_id=tenant_id,
                name="عملاء بميزانية كبيرة",
                entity_type=SegmentEntity.CONTACT,
                definition={
                    "op": "and",
                    "conditions": [{"field": "cf.budget", "operator": "gte", "value": 5_000_000}],
                },
            ),
        ]
    )
    await session.flush()
