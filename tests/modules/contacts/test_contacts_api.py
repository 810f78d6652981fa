"""`/v1/contacts`: create, read, list, change, delete — and every negative path."""

from __future__ import annotations

from uuid import uuid4

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.contacts.models import Lifecycle
from m3crm.modules.customfields.models import FieldType
from tests.conftest import World, error_code
from tests.factories import bearer, make_user
from tests.modules.contacts.helpers import audit_rows, make_company, make_contact, make_field

URL = "/v1/contacts"
NEW = {
    "first_name": "مُحَمَّد",
    "last_name": "أحمد",
    "channels": [
        {"type": "email", "value": "Mohamed.Ahmed@Example.test"},
        {"type": "phone", "value": "+20 100 123 4567"},
    ],
}


async def staff_headers(session: AsyncSession, world: World) -> dict[str, str]:
    await bind_tenant(session, world.a.id, None)
    user = await make_user(
        session, tenant_id=world.a.id, email=f"staff-{uuid4().hex[:6]}@alpha.test", role="staff"
    )
    return bearer(world.settings, world.a.id, user)


async def test_create_normalises_channels_and_audits(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    response = await client.post(URL, json=NEW, headers=world.headers(world.a))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["owner_user_id"] == str(world.a.admin_id)
    assert body["lifecycle_stage"] == "lead"
    values = {c["type"]: c["normalized_value"] for c in body["channels"]}
    assert values == {"email": "mohamed.ahmed@example.test", "phone": "+201001234567"}
    assert all(c["is_primary"] for c in body["channels"])
    rows = await audit_rows(session, world.a, "contact.created", body["id"])
    assert len(rows) == 1 and rows[0][1]["first_name"] == "مُحَمَّد"


async def test_anonymous_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json=NEW)).status_code == 401


async def test_member_without_role_is_403(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a, "member")
    assert error_code(await client.get(URL, headers=headers)) == "PERMISSION_DENIED"
    assert (await client.post(URL, json=NEW, headers=headers)).status_code == 403


async def test_bad_input_is_422_with_fields(client: httpx.AsyncClient, world: World) -> None:
    bad = {"first_name": "", "channels": [{"type": "phone", "value": "12345"}]}
    response = await client.post(URL, json=bad, headers=world.headers(world.a))
    assert response.status_code == 422
    phone = {**NEW, "channels": [{"type": "phone", "value": "+20 12"}]}
    response = await client.post(URL, json=phone, headers=world.headers(world.a))
    assert response.status_code == 422
    assert "channels.0.value" in response.json()["error"]["details"]["fields"]
    email = {**NEW, "channels": [{"type": "email", "value": "not-an-email"}]}
    response = await client.post(URL, json=email, headers=world.headers(world.a))
    assert "channels.0.value" in response.json()["error"]["details"]["fields"]


async def test_other_tenants_company_or_owner_is_422(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await make_company(session, world.b)
    for body, field in (
        ({**NEW, "channels": [], "company_id": str(theirs.id)}, "company_id"),
        ({**NEW, "channels": [], "owner_user_id": str(world.b.admin_id)}, "owner_user_id"),
    ):
        response = await client.post(URL, json=body, headers=world.headers(world.a))
        assert response.status_code == 422
        assert field in response.json()["error"]["details"]["fields"]


async def test_duplicate_email_or_phone_is_409_naming_the_holder(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    held = await make_contact(session, world.a, email="taken@example.test", phone="+971501234567")
    for channel in (
        {"type": "email", "value": "TAKEN@example.test"},
        {"type": "whatsapp", "value": "+971 50 123 4567"},
    ):
        body = {"first_name": "Other", "channels": [channel]}
        response = await client.post(URL, json=body, headers=world.headers(world.a))
        assert response.status_code == 409, response.text
        assert response.json()["error"]["details"]["existing_id"] == str(held.id)


async def test_same_address_in_another_tenant_is_fine(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.b, email="shared@example.test")
    body = {"first_name": "Shared", "channels": [{"type": "email", "value": "shared@example.test"}]}
    assert (await client.post(URL, json=body, headers=world.headers(world.a))).status_code == 201


async def test_private_contact_needs_the_plan_feature(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"first_name": "Secret", "is_private": True}
    response = await client.post(URL, json=body, headers=world.headers(world.b))
    assert response.status_code == 402
    assert response.json()["error"]["details"]["feature"] == "contacts.privateRecords"
    assert (await client.post(URL, json=body, headers=world.headers(world.a))).status_code == 201


async def test_contacts_max_is_enforced(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.b.id, None)
    await session.execute(
        text(
            "INSERT INTO contacts (tenant_id, id, first_name, last_name, lifecycle_stage,"
            " is_private) SELECT :t, gen_random_uuid(), 'Bulk', '', 'lead', false"
            " FROM generate_series(1, 2000)"
        ),
        {"t": world.b.id},
    )
    response = await client.post(
        URL, json={"first_name": "One more"}, headers=world.headers(world.b)
    )
    assert response.status_code == 422
    assert error_code(response) == "LIMIT_REACHED"
    assert response.json()["error"]["details"] == {"key": "contacts.max", "limit": 2000}


async def test_read_other_tenant_is_404(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await make_contact(session, world.b)
    headers = world.headers(world.a)
    assert (await client.get(f"{URL}/{theirs.id}", headers=headers)).status_code == 404
    assert (await client.patch(f"{URL}/{theirs.id}", json={}, headers=headers)).status_code == 404
    assert (await client.delete(f"{URL}/{theirs.id}", headers=headers)).status_code == 404


async def test_staff_may_view_but_not_edit_others_contacts(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    owned = await make_contact(session, world.a, owner_id=world.a.admin_id)
    headers = await staff_headers(session, world)
    assert (await client.get(f"{URL}/{owned.id}", headers=headers)).status_code == 200
    response = await client.patch(f"{URL}/{owned.id}", json={"job_title": "CEO"}, headers=headers)
    assert response.status_code == 403
    mine = await client.post(URL, json={"first_name": "Mine"}, headers=headers)
    patched = await client.patch(
        f"{URL}/{mine.json()['id']}", json={"job_title": "CEO"}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["job_title"] == "CEO"


async def test_private_contact_is_hidden_from_other_staff(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    secret = await make_contact(session, world.a, owner_id=world.a.admin_id, is_private=True)
    headers = await staff_headers(session, world)
    assert (await client.get(f"{URL}/{secret.id}", headers=headers)).status_code == 404
    listed = await client.get(URL, headers=headers)
    assert str(secret.id) not in {c["id"] for c in listed.json()["items"]}
    admin = await client.get(f"{URL}/{secret.id}", headers=world.headers(world.a))
    assert admin.status_code == 200


async def test_update_audits_the_diff(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a)
    company = await make_company(session, world.a)
    response = await client.patch(
        f"{URL}/{contact.id}",
        json={"lifecycle_stage": "customer", "company_id": str(company.id)},
        headers=world.headers(world.a),
    )
    assert response.status_code == 200
    assert response.json()["company_id"] == str(company.id)
    rows = await audit_rows(session, world.a, "contact.updated", contact.id)
    assert rows[-1][0]["lifecycle_stage"] == "lead"
    assert rows[-1][1]["lifecycle_stage"] == "customer"


async def test_update_refuses_null_for_required_fields(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a)
    response = await client.patch(
        f"{URL}/{contact.id}", json={"first_name": None}, headers=world.headers(world.a)
    )
    assert response.status_code == 422
    assert "first_name" in response.json()["error"]["details"]["fields"]


async def test_delete_tombstones_and_frees_the_address(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, email="gone@example.test")
    headers = world.headers(world.a)
    assert (await client.delete(f"{URL}/{contact.id}", headers=headers)).status_code == 204
    assert (await client.get(f"{URL}/{contact.id}", headers=headers)).status_code == 404
    assert (await client.delete(f"{URL}/{contact.id}", headers=headers)).status_code == 404
    again = {"first_name": "New", "channels": [{"type": "email", "value": "gone@example.test"}]}
    assert (await client.post(URL, json=again, headers=headers)).status_code == 201
    assert await audit_rows(session, world.a, "contact.deleted", contact.id)


async def test_staff_cannot_delete(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a)
    headers = await staff_headers(session, world)
    assert (await client.delete(f"{URL}/{contact.id}", headers=headers)).status_code == 403


async def test_list_filters_and_seek_pagination(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    company = await make_company(session, world.a, name="Filter Co")
    made = [
        await make_contact(
            session,
            world.a,
            first_name=f"Page{i}",
            company_id=company.id,
            lifecycle=Lifecycle.CUSTOMER if i % 2 else Lifecycle.LEAD,
        )
        for i in range(5)
    ]
    headers = world.headers(world.a)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"company": str(company.id), "limit": 2, "sort": "name"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(URL, params=params, headers=headers)).json()
        seen += [c["first_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(c.first_name for c in made)
    customers = await client.get(
        URL, params={"company": str(company.id), "lifecycle": "customer"}, headers=headers
    )
    assert {c["first_name"] for c in customers.json()["items"]} == {"Page1", "Page3"}
    bad = await client.get(URL, params={"cursor": "A" * 30}, headers=headers)
    assert bad.status_code == 422


async def test_search_folds_arabic_and_matches_phone_suffix(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    found = await make_contact(
        session, world.a, first_name="مُحَمَّد", last_name="إبراهيم", phone="+201005550123"
    )
    headers = world.headers(world.a)
    for q in ("محمد ابراهيم", "ابراهيم", "5550123", "0123"):
        response = await client.get(URL, params={"q": q}, headers=headers)
        assert str(found.id) in {c["id"] for c in response.json()["items"]}, q


async def test_custom_fields_are_validated_and_required(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_field(session, world.a, code="budget", type=FieldType.NUMBER, required=True)
    headers = world.headers(world.a)
    missing = await client.post(URL, json={"first_name": "Cf"}, headers=headers)
    assert missing.status_code == 422
    assert "custom_fields.budget" in missing.json()["error"]["details"]["fields"]
    wrong = await client.post(
        URL, json={"first_name": "Cf", "custom_fields": {"budget": "lots"}}, headers=headers
    )
    assert "custom_fields.budget" in wrong.json()["error"]["details"]["fields"]
    ok = await client.post(
        URL, json={"first_name": "Cf", "custom_fields": {"budget": 2500000}}, headers=headers
    )
    assert ok.status_code == 201 and ok.json()["custom_fields"] == {"budget": 2500000}


async def test_list_query_budget_does_not_grow_with_the_page(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """No N+1: a page of 3 and a page of 30 contacts cost the same number of statements."""
    company = await make_company(session, world.a, name="Budget Co")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = session.bind.engine.sync_engine  # type: ignore[union-attr]
    costs = []
    for size in (3, 30):
        for i in range(size):
            await make_contact(session, world.a, first_name=f"Budget{size}-{i}", company_id=company.id,
                               email=f"budget{size}-{i}@example.test")  # fmt: skip
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            response = await client.get(
                URL,
                params={"company": str(company.id), "limit": 100},
                headers=world.headers(world.a),
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        costs.append(len(statements))
    assert costs[0] == costs[1], costs
