"""Company links of a contact, the open duplicate pairs, and ownership reassignment."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import SystemActor
from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.contacts.contacts import contact as contact_service
from tests.conftest import World
from tests.modules.contacts.helpers import audit_rows, make_company, make_contact
from tests.modules.contacts.test_contacts_api import staff_headers


async def test_secondary_links_and_removing_the_primary(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    primary = await make_company(session, world.a, name="Primary Co")
    other = await make_company(session, world.a, name="Other Co")
    theirs = await make_company(session, world.b, name="Their Co")
    headers = world.headers(world.a)
    made = await client.post(
        "/v1/contacts",
        json={"first_name": "Linked", "company_id": str(primary.id)},
        headers=headers,
    )
    contact_id = made.json()["id"]
    base = f"/v1/contacts/{contact_id}/links"
    added = await client.post(
        base, json={"company_id": str(other.id), "relation": "stakeholder"}, headers=headers
    )
    assert added.status_code == 201 and added.json()["is_primary"] is False
    assert (
        await client.post(base, json={"company_id": str(other.id)}, headers=headers)
    ).status_code == 409
    foreign = await client.post(base, json={"company_id": str(theirs.id)}, headers=headers)
    assert foreign.status_code == 422
    listed = (await client.get(base, headers=headers)).json()
    assert {(link["company_id"], link["is_primary"]) for link in listed} == {
        (str(primary.id), True),
        (str(other.id), False),
    }
    primary_link = next(link["id"] for link in listed if link["is_primary"])
    assert (await client.delete(f"{base}/{primary_link}", headers=headers)).status_code == 204
    shown = await client.get(f"/v1/contacts/{contact_id}", headers=headers)
    assert shown.json()["company_id"] is None
    assert await audit_rows(session, world.a, "contact.link.removed", contact_id)
    assert (await client.delete(f"{base}/{primary_link}", headers=headers)).status_code == 404
    staff = await staff_headers(session, world)
    assert (
        await client.post(base, json={"company_id": str(other.id)}, headers=staff)
    ).status_code == 403


async def test_open_duplicate_pairs_are_listed(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    first = await make_contact(session, world.a, first_name="Pair", last_name="Twin")
    headers = world.headers(world.a)
    second = await client.post(
        "/v1/contacts", json={"first_name": "pair", "last_name": "twin"}, headers=headers
    )
    pairs = (await client.get("/v1/contacts/duplicates", headers=headers)).json()["items"]
    wanted = {str(first.id), second.json()["id"]}
    assert any({p["contact_a_id"], p["contact_b_id"]} == wanted for p in pairs)
    staff = await staff_headers(session, world)
    assert (await client.get("/v1/contacts/duplicates", headers=staff)).status_code == 403
    body = {"source_id": second.json()["id"], "target_id": str(first.id)}
    assert (await client.post("/v1/contacts/merge", json=body, headers=headers)).status_code == 200
    after = (await client.get("/v1/contacts/duplicates", headers=headers)).json()["items"]
    assert not any({p["contact_a_id"], p["contact_b_id"]} == wanted for p in after)


async def test_reassign_owner_moves_every_contact_of_a_user(
    session: AsyncSession, world: World
) -> None:
    mine = [
        await make_contact(session, world.a, first_name=f"Own{i}", owner_id=world.a.agent_id)
        for i in range(3)
    ]
    kept = await make_contact(session, world.a, first_name="Kept", owner_id=world.a.admin_id)
    actor = SystemActor(world.a.id, world.a.admin_id)
    moved = await contact_service.reassign_owner(session, actor, world.a.agent_id, world.a.admin_id)
    assert moved == 3
    await bind_tenant(session, world.a.id, None)
    owners = (
        await session.execute(
            text(
                "SELECT DISTINCT owner_user_id FROM contacts WHERE tenant_id = :t AND id = ANY(:ids)"
            ),
            {"t": world.a.id, "ids": [c.id for c in [*mine, kept]]},
        )
    ).scalars()
    assert list(owners) == [world.a.admin_id]
    assert await audit_rows(session, world.a, "contact.updated", mine[0].id)
