"""`/v1/companies`: create, read, list, change, delete — and every negative path."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from tests.conftest import World, error_code
from tests.modules.contacts.helpers import audit_rows, make_company, make_contact
from tests.modules.contacts.test_contacts_api import staff_headers

URL = "/v1/companies"


async def test_create_normalises_domain_and_phone(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    body = {
        "name": "شركة النيل",
        "domain": "https://www.NileTowers.example/about",
        "phone": "+971 4 234 5678",
        "country": "ae",
        "city": "Dubai",
    }
    response = await client.post(URL, json=body, headers=world.headers(world.a))
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["domain"], made["phone_e164"], made["country"]) == (
        "niletowers.example",
        "+97142345678",
        "AE",
    )
    assert await audit_rows(session, world.a, "company.created", made["id"])
    found = await client.get(URL, params={"q": "النيل"}, headers=world.headers(world.a))
    assert made["id"] in {c["id"] for c in found.json()["items"]}


async def test_company_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await make_company(session, world.b)
    headers = world.headers(world.a)
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(URL, headers=world.headers(world.a, "member"))).status_code == 403
    assert (await client.get(f"{URL}/{theirs.id}", headers=headers)).status_code == 404
    assert (await client.patch(f"{URL}/{theirs.id}", json={}, headers=headers)).status_code == 404
    bad = await client.post(URL, json={"name": "X", "domain": "not a domain"}, headers=headers)
    assert bad.status_code == 422 and "domain" in bad.json()["error"]["details"]["fields"]
    phone = await client.post(URL, json={"name": "X", "phone": "+1 2"}, headers=headers)
    assert "phone" in phone.json()["error"]["details"]["fields"]


async def test_companies_max_is_enforced(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.b.id, None)
    await session.execute(
        text(
            "INSERT INTO companies (tenant_id, id, name, status) SELECT :t, gen_random_uuid(),"
            " 'Bulk', 'active' FROM generate_series(1, 500)"
        ),
        {"t": world.b.id},
    )
    response = await client.post(URL, json={"name": "One more"}, headers=world.headers(world.b))
    assert response.status_code == 422 and error_code(response) == "LIMIT_REACHED"


async def test_staff_edit_rules_and_delete_detaches_contacts(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    company = await make_company(session, world.a, owner_id=world.a.admin_id)
    contact = await make_contact(session, world.a, company_id=company.id)
    staff = await staff_headers(session, world)
    assert (await client.get(f"{URL}/{company.id}", headers=staff)).status_code == 200
    denied = await client.patch(f"{URL}/{company.id}", json={"city": "Cairo"}, headers=staff)
    assert denied.status_code == 403
    assert (await client.delete(f"{URL}/{company.id}", headers=staff)).status_code == 403
    headers = world.headers(world.a)
    patched = await client.patch(f"{URL}/{company.id}", json={"city": "Cairo"}, headers=headers)
    assert patched.json()["city"] == "Cairo"
    assert (
        await client.patch(f"{URL}/{company.id}", json={"name": None}, headers=headers)
    ).status_code == 422
    assert (await client.delete(f"{URL}/{company.id}", headers=headers)).status_code == 204
    assert (await client.get(f"{URL}/{company.id}", headers=headers)).status_code == 404
    shown = await client.get(f"/v1/contacts/{contact.id}", headers=headers)
    assert shown.json()["company_id"] is None
    assert await audit_rows(session, world.a, "company.deleted", company.id)


async def test_list_filters(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    await make_company(session, world.a, name="Alpha Dev", domain="alphadev.example")
    await make_company(session, world.a, name="Beta Homes", domain="beta.example")
    headers = world.headers(world.a)
    by_domain = await client.get(URL, params={"domain": "beta.example"}, headers=headers)
    assert [c["name"] for c in by_domain.json()["items"]] == ["Beta Homes"]
    by_name = await client.get(URL, params={"name": "alpha dev"}, headers=headers)
    assert [c["name"] for c in by_name.json()["items"]] == ["Alpha Dev"]


async def test_plan_overview_shows_live_usage_of_the_limits(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.b, first_name="Counted")
    gone = await make_contact(session, world.b, first_name="Deleted")
    await make_company(session, world.b, name="Counted Co")
    headers = world.headers(world.b)
    assert (await client.delete(f"/v1/contacts/{gone.id}", headers=headers)).status_code == 204
    overview = (await client.get("/v1/admin/plan", headers=headers)).json()
    usage = {limit["key"]: limit["usage"] for limit in overview["limits"]}
    assert usage["contacts.max"] == 1
    assert usage["companies.max"] == 1
