"""Dedupe §6: `POST /v1/contacts/dedupe/check` and `POST /v1/contacts/merge`."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.contacts.models import ContactLink
from m3crm.modules.customfields.models import CustomFieldValue, EntityType
from tests.conftest import World, error_code
from tests.modules.contacts.helpers import audit_rows, make_company, make_contact, make_field
from tests.modules.contacts.test_contacts_api import staff_headers

CHECK = "/v1/contacts/dedupe/check"
MERGE = "/v1/contacts/merge"


async def test_check_lists_blocking_and_soft_matches(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    company = await make_company(session, world.a, domain="nile.example")
    by_email = await make_contact(session, world.a, first_name="Z", email="sara@nile.example")
    by_domain = await make_contact(
        session, world.a, first_name="سارة", last_name="علي", company_id=company.id
    )
    by_phone = await make_contact(
        session, world.a, first_name="سارة", last_name="علي", phone="+201009876543"
    )
    by_name = await make_contact(session, world.a, first_name="ساره", last_name="على")
    body = {
        "first_name": "سارة",
        "last_name": "علي",
        "emails": ["Sara@Nile.example"],
        "phones": ["+971509876543"],
    }
    response = await client.post(CHECK, json=body, headers=world.headers(world.a))
    assert response.status_code == 200, response.text
    reasons = {m["contact_id"]: (m["reason"], m["blocking"]) for m in response.json()}
    assert reasons[str(by_email.id)] == ("email", True)
    assert reasons[str(by_domain.id)] == ("name_company_domain", False)
    assert reasons[str(by_phone.id)] == ("name_phone_partial", False)
    assert reasons[str(by_name.id)] == ("name", False)
    scores = [m["score"] for m in response.json()]
    assert scores == sorted(scores, reverse=True)


async def test_check_negative_paths_and_tenant_scope(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.b, email="other@tenant.example")
    body = {"emails": ["other@tenant.example"]}
    assert (await client.post(CHECK, json=body)).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.post(CHECK, json=body, headers=member)).status_code == 403
    found = await client.post(CHECK, json=body, headers=world.headers(world.a))
    assert found.json() == []
    bad = await client.post(CHECK, json={"emails": "x"}, headers=world.headers(world.a))
    assert bad.status_code == 422


async def test_create_remembers_soft_matches(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    first = await make_contact(session, world.a, first_name="Omar", last_name="Said")
    made = await client.post(
        "/v1/contacts",
        json={"first_name": "omar", "last_name": "said"},
        headers=world.headers(world.a),
    )
    await bind_tenant(session, world.a.id, None)
    pairs = (
        await session.execute(
            text(
                "SELECT reason FROM contact_duplicates WHERE tenant_id = :t AND :c IN (contact_a_id, contact_b_id)"
            ),
            {"t": world.a.id, "c": first.id},
        )
    ).scalars()
    assert list(pairs) == ["name"]
    assert made.status_code == 201


async def test_merge_keeps_target_and_moves_everything(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    company = await make_company(session, world.a)
    field = await make_field(session, world.a, code="budget")
    target = await make_contact(session, world.a, first_name="Keep", email="keep@example.test")
    source = await make_contact(
        session, world.a, first_name="Gone", last_name="Dup", email="gone@example.test",
        phone="+201002223344", company_id=company.id,
    )  # fmt: skip
    await bind_tenant(session, world.a.id, None)
    session.add(
        ContactLink(
            tenant_id=world.a.id, contact_id=source.id, company_id=company.id, is_primary=True
        )
    )
    session.add(CustomFieldValue(tenant_id=world.a.id, entity_type=EntityType.CONTACT, entity_id=source.id,
                                 field_id=field.id, value="5M", value_text="5m"))  # fmt: skip
    await session.execute(
        text("UPDATE contact_channels SET verified_at = now(), opt_in = true, opt_in_source = 'form'"
             " WHERE tenant_id = :t AND contact_id = :c AND type = 'phone'"),
        {"t": world.a.id, "c": source.id},
    )  # fmt: skip
    await session.flush()
    body = {
        "source_id": str(source.id),
        "target_id": str(target.id),
        "take_from_source": ["last_name"],
    }
    response = await client.post(MERGE, json=body, headers=world.headers(world.a))
    assert response.status_code == 200, response.text
    kept = response.json()
    assert kept["id"] == str(target.id)
    assert (kept["first_name"], kept["last_name"]) == ("Keep", "Dup")
    channels = {c["normalized_value"]: c for c in kept["channels"]}
    assert set(channels) == {"keep@example.test", "gone@example.test", "+201002223344"}
    assert (
        channels["keep@example.test"]["is_primary"]
        and not channels["gone@example.test"]["is_primary"]
    )
    assert channels["+201002223344"]["verified_at"] is not None
    assert channels["+201002223344"]["opt_in"] is True
    assert kept["custom_fields"] == {"budget": "5M"}
    headers = world.headers(world.a)
    assert (await client.get(f"/v1/contacts/{source.id}", headers=headers)).status_code == 404
    await bind_tenant(session, world.a.id, None)
    merged_into = (
        await session.execute(
            text("SELECT merged_into_id FROM contacts WHERE tenant_id = :t AND id = :i"),
            {"t": world.a.id, "i": source.id},
        )
    ).scalar_one()
    assert merged_into == target.id
    links = (
        await session.execute(
            text("SELECT contact_id FROM contact_links WHERE tenant_id = :t AND company_id = :c"),
            {"t": world.a.id, "c": company.id},
        )
    ).scalars()
    assert list(links) == [target.id]
    consent = (
        await session.execute(
            text(
                "SELECT consent_source FROM channel_opt_ins WHERE tenant_id = :t AND subject_id = :s"
            ),
            {"t": world.a.id, "s": target.id},
        )
    ).scalars()
    assert list(consent) == ["merge"]
    rows = await audit_rows(session, world.a, "contact.merged", target.id)
    assert rows and rows[0][1]["merged_from"] == str(source.id)


async def test_merge_edge_cases(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    a = await make_contact(session, world.a, first_name="A")
    b = await make_contact(session, world.a, first_name="B")
    c = await make_contact(session, world.a, first_name="C")
    theirs = await make_contact(session, world.b)
    headers = world.headers(world.a)

    def body(source: object, target: object) -> dict[str, str]:
        return {"source_id": str(source), "target_id": str(target)}

    assert (await client.post(MERGE, json=body(a.id, b.id))).status_code == 401
    agent_less = await staff_headers(session, world)
    assert (await client.post(MERGE, json=body(a.id, b.id), headers=agent_less)).status_code == 403
    self_merge = await client.post(MERGE, json=body(a.id, a.id), headers=headers)
    assert self_merge.status_code == 422
    cross = await client.post(MERGE, json=body(theirs.id, a.id), headers=headers)
    assert cross.status_code == 404
    assert (
        await client.post(MERGE, json=body(a.id, theirs.id), headers=headers)
    ).status_code == 404
    assert (await client.post(MERGE, json=body(b.id, a.id), headers=headers)).status_code == 200
    into_merged = await client.post(MERGE, json=body(c.id, b.id), headers=headers)
    assert into_merged.status_code == 409 and error_code(into_merged) == "CONFLICT"
    assert into_merged.json()["error"]["details"]["merged_into_id"] == str(a.id)
    from_merged = await client.post(MERGE, json=body(b.id, c.id), headers=headers)
    assert from_merged.status_code == 409
