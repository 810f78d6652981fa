"""`/v1/custom-fields/definitions` and the rules values follow (types, required, unique)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.modules.customfields.models import FieldType
from tests.conftest import World, error_code
from tests.modules.contacts.helpers import make_field

URL = "/v1/custom-fields/definitions"


async def test_define_list_update_delete(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    body = {"entity": "contact", "code": "source_channel", "label": "Source", "type": "select",
            "options": ["facebook", "walk_in"]}  # fmt: skip
    made = await client.post(URL, json=body, headers=headers)
    assert made.status_code == 201, made.text
    field_id = made.json()["id"]
    assert (await client.post(URL, json=body, headers=headers)).status_code == 409
    listed = await client.get(
        URL, params={"entity": "contact"}, headers=world.headers(world.a, "agent")
    )
    assert "source_channel" in {d["code"] for d in listed.json()}
    patched = await client.patch(
        f"{URL}/{field_id}", json={"label": "Lead source"}, headers=headers
    )
    assert patched.json()["label"] == "Lead source"
    assert (await client.delete(f"{URL}/{field_id}", headers=headers)).status_code == 204
    assert (await client.get(f"{URL}/{field_id}", headers=headers)).status_code == 404


async def test_definition_negative_paths(client: httpx.AsyncClient, world: World) -> None:
    body = {"entity": "contact", "code": "x", "label": "X", "type": "text"}
    assert (await client.post(URL, json=body)).status_code == 401
    agent = world.headers(world.a, "agent")
    assert (await client.post(URL, json=body, headers=agent)).status_code == 403
    headers = world.headers(world.a)
    no_options = {**body, "type": "select"}
    response = await client.post(URL, json=no_options, headers=headers)
    assert (
        response.status_code == 422 and "options" in response.json()["error"]["details"]["fields"]
    )
    bool_unique = {**body, "type": "bool", "is_unique": True}
    assert (await client.post(URL, json=bool_unique, headers=headers)).status_code == 422
    bad_code = {**body, "code": "Has Spaces"}
    assert (await client.post(URL, json=bad_code, headers=headers)).status_code == 422


async def test_definition_count_is_limited_by_plan(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    for i in range(10):
        await make_field(session, world.b, code=f"field_{i}")
    body = {"entity": "contact", "code": "eleventh", "label": "X", "type": "text"}
    response = await client.post(URL, json=body, headers=world.headers(world.b))
    assert response.status_code == 422 and error_code(response) == "LIMIT_REACHED"


async def test_unique_value_is_enforced(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_field(session, world.a, code="national_id", unique=True)
    headers = world.headers(world.a)
    first = {"first_name": "One", "custom_fields": {"national_id": "29001011234567"}}
    made = await client.post("/v1/contacts", json=first, headers=headers)
    assert made.status_code == 201
    second = {"first_name": "Two", "custom_fields": {"national_id": "29001011234567"}}
    clash = await client.post("/v1/contacts", json=second, headers=headers)
    assert clash.status_code == 409
    assert clash.json()["error"]["details"]["existing_id"] == made.json()["id"]


async def test_making_a_field_unique_with_clashing_values_is_409(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    defn = await make_field(session, world.a, code="passport")
    headers = world.headers(world.a)
    for name in ("One", "Two"):
        body = {"first_name": name, "custom_fields": {"passport": "A123"}}
        assert (await client.post("/v1/contacts", json=body, headers=headers)).status_code == 201
    response = await client.patch(f"{URL}/{defn.id}", json={"is_unique": True}, headers=headers)
    assert response.status_code == 409


async def test_every_type_is_checked(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    cases = {
        FieldType.NUMBER: ("n", 12.5, "12"),
        FieldType.DATE: ("d", "2026-01-31", "31/01/2026"),
        FieldType.BOOL: ("b", True, "yes"),
        FieldType.SELECT: ("s", "red", "blue"),
        FieldType.MULTISELECT: ("m", ["red", "green"], ["pink"]),
        FieldType.TEXT: ("t", "نص", 5),
    }
    for kind, (code, _, _) in cases.items():
        await make_field(
            session,
            world.a,
            code=code,
            type=kind,
            options=["red", "green"] if kind in (FieldType.SELECT, FieldType.MULTISELECT) else None,
        )
    headers = world.headers(world.a)
    for code, good, bad in cases.values():
        wrong = await client.post(
            "/v1/contacts", json={"first_name": "T", "custom_fields": {code: bad}}, headers=headers
        )
        assert wrong.status_code == 422, code
        right = await client.post(
            "/v1/contacts", json={"first_name": "T", "custom_fields": {code: good}}, headers=headers
        )
        assert right.status_code == 201, (code, right.text)
        assert right.json()["custom_fields"][code] == good
    await bind_tenant(session, world.a.id, None)
    stored = (
        await session.execute(
            text("SELECT count(*) FROM custom_field_values WHERE tenant_id = :t"), {"t": world.a.id}
        )
    ).scalar_one()
    assert stored == len(cases)
