"""Segments: the filter language, saved segments, live count and members."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.modules.contacts.models import Lifecycle
from m3crm.modules.customfields.models import EntityType, FieldType
from m3crm.modules.customfields.service import custom_fields
from tests.conftest import World
from tests.modules.contacts.helpers import make_contact, make_field, make_segment

URL = "/v1/segments"


def cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


async def count(client: httpx.AsyncClient, world: World, definition: dict[str, Any]) -> int:
    response = await client.post(
        f"{URL}/preview", json={"definition": definition}, headers=world.headers(world.a)
    )
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


async def test_standard_and_custom_conditions(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_field(session, world.a, code="budget", type=FieldType.NUMBER)
    await make_field(
        session, world.a, code="areas", type=FieldType.MULTISELECT, options=["zayed", "marina"]
    )
    headers = world.headers(world.a)
    people = [
        ("Segma", "customer", "segma@example.test", 3_000_000, ["zayed"]),
        ("Segmb", "customer", None, 9_000_000, ["marina", "zayed"]),
        ("Segmc", "lead", "segmc@example.test", None, []),
    ]
    for name, stage, email, budget, areas in people:
        body: dict[str, Any] = {"first_name": name, "last_name": "Seg", "lifecycle_stage": stage}
        body["channels"] = [{"type": "email", "value": email}] if email else []
        body["custom_fields"] = {"budget": budget, "areas": areas}
        assert (await client.post("/v1/contacts", json=body, headers=headers)).status_code == 201
    base = cond("last_name", "eq", "seg")

    def both(*more: dict[str, Any]) -> dict[str, Any]:
        return {"op": "and", "conditions": [base, *more]}

    assert await count(client, world, both(cond("lifecycle_stage", "eq", "customer"))) == 2
    assert await count(client, world, both(cond("cf.budget", "gt", 5_000_000))) == 1
    assert await count(client, world, both(cond("cf.budget", "is_empty"))) == 1
    assert (
        await count(client, world, both(cond("cf.areas", "contains_all", ["zayed", "marina"]))) == 1
    )
    assert await count(client, world, both(cond("cf.areas", "contains_any", ["zayed"]))) == 2
    assert await count(client, world, both(cond("email", "is_not_empty"))) == 2
    assert await count(client, world, both(cond("email", "starts_with", "SEGMA"))) == 1
    nested = both(
        {
            "op": "or",
            "conditions": [cond("first_name", "eq", "segma"), cond("cf.budget", "gte", 9e6)],
        }
    )
    assert await count(client, world, nested) == 2
    assert await count(client, world, both(cond("created_at", "gte", "2000-01-01"))) == 3


async def test_bad_definitions_answer_422_with_the_path(
    client: httpx.AsyncClient, world: World
) -> None:
    cases = [
        ({"op": "xor", "conditions": [cond("name", "eq", "x")]}, "definition.op"),
        ({"op": "and", "conditions": []}, "definition.conditions"),
        ({"op": "and", "conditions": [cond("nope", "eq", "x")]}, "definition.conditions.0.field"),
        (
            {"op": "and", "conditions": [cond("name", "gt", "x")]},
            "definition.conditions.0.operator",
        ),
        (
            {
                "op": "and",
                "conditions": [cond("name", "eq", "x"), cond("lifecycle_stage", "eq", "vip")],
            },
            "definition.conditions.1.value",
        ),
        (
            {"op": "and", "conditions": [cond("cf.missing", "eq", "x")]},
            "definition.conditions.0.field",
        ),
        (
            {"op": "and", "conditions": [cond("owner_user_id", "in", ["not-a-uuid"])]},
            "definition.conditions.0.value.0",
        ),
    ]
    for definition, path in cases:
        response = await client.post(
            f"{URL}/preview", json={"definition": definition}, headers=world.headers(world.a)
        )
        assert response.status_code == 422, definition
        assert path in response.json()["error"]["details"]["fields"], response.json()


async def test_saved_segment_crud_count_and_members(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    made = [await make_contact(session, world.a, first_name=f"Mem{i}", last_name="Member",
                               lifecycle=Lifecycle.CUSTOMER) for i in range(3)]  # fmt: skip
    definition = {"op": "and", "conditions": [cond("last_name", "eq", "member")]}
    created = await client.post(
        URL, json={"name": "Members", "definition": definition}, headers=headers
    )
    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    again = await client.post(
        URL, json={"name": "Members", "definition": definition}, headers=headers
    )
    assert again.status_code == 409
    counted = await client.get(f"{URL}/{segment_id}/count", headers=headers)
    assert counted.json() == {"count": 3}
    members = await client.get(f"{URL}/{segment_id}/members", params={"limit": 2}, headers=headers)
    page = members.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    listed = await client.get("/v1/contacts", params={"segment": segment_id}, headers=headers)
    assert {c["id"] for c in listed.json()["items"]} == {str(c.id) for c in made}
    renamed = await client.patch(f"{URL}/{segment_id}", json={"name": "Renamed"}, headers=headers)
    assert renamed.json()["name"] == "Renamed"
    assert (await client.delete(f"{URL}/{segment_id}", headers=headers)).status_code == 204
    assert (await client.get(f"{URL}/{segment_id}", headers=headers)).status_code == 404


async def test_segment_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await make_segment(session, world.b)
    headers = world.headers(world.a)
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(URL, headers=world.headers(world.a, "member"))).status_code == 403
    for path in (f"{URL}/{theirs.id}", f"{URL}/{theirs.id}/count", f"{URL}/{theirs.id}/members"):
        assert (await client.get(path, headers=headers)).status_code == 404
    foreign = await client.get("/v1/contacts", params={"segment": str(theirs.id)}, headers=headers)
    assert foreign.status_code == 422


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
fields = st.sampled_from(
    ["name", "first_name", "lifecycle_stage", "owner_user_id", "created_at", "email", "phone",
     "is_private", "cf.budget", "cf.areas", "has_verified_channel", "'; DROP TABLE contacts; --"]
)  # fmt: skip
operators = st.sampled_from(
    ["eq", "neq", "in", "not_in", "contains", "starts_with", "gt", "gte", "lt", "lte",
     "is_empty", "is_not_empty", "contains_any", "contains_all", "like"]
)  # fmt: skip
conditions = st.fixed_dictionaries(
    {"field": fields, "operator": operators, "value": json_values | st.text(max_size=30)}
)
definitions = (
    st.recursive(
        conditions,
        lambda children: st.fixed_dictionaries(
            {
                "op": st.sampled_from(["and", "or", "not"]),
                "conditions": st.lists(children, max_size=4),
            }
        ),
        max_leaves=8,
    )
    | json_values
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(definition=definitions)
async def test_fuzzed_definitions_never_500(
    client: httpx.AsyncClient, session: AsyncSession, world: World, definition: Any
) -> None:
    """Any JSON at all: a count (200) or a 422 — never a server error. (Examples share
    the test's transaction, so the custom fields are made by the first one only.)"""
    existing = await custom_fields.list_defs(session, world.a.id, EntityType.CONTACT)
    if not existing:
        await make_field(session, world.a, code="budget", type=FieldType.NUMBER)
        await make_field(
            session, world.a, code="areas", type=FieldType.MULTISELECT, options=["zayed", "marina"]
        )
    response = await client.post(
        f"{URL}/preview", json={"definition": definition}, headers=world.headers(world.a)
    )
    assert response.status_code in (200, 422), (definition, response.text)


async def test_every_operator_family_counts_right(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_field(session, world.a, code="notes", type=FieldType.TEXT)
    await make_field(
        session, world.a, code="tier", type=FieldType.SELECT, options=["gold", "silver"]
    )
    await make_field(session, world.a, code="vip", type=FieldType.BOOL)
    await make_field(session, world.a, code="since", type=FieldType.DATE)
    headers = world.headers(world.a)
    people = [
        ("Ops1", "prospect", "Broker", {"notes": "يريد شقة", "tier": "gold", "vip": True, "since": "2024-05-01"},
         [{"type": "phone", "value": "+201009870001"}]),
        ("Ops2", "lead", "", {"tier": "silver", "vip": False, "since": "2025-01-15"},
         [{"type": "email", "value": "ops2@example.test"}]),
        ("Ops3", "lead", "Agent", {}, []),
    ]  # fmt: skip
    for first, stage, title, custom, channels in people:
        body = {"first_name": first, "last_name": "Opsx", "lifecycle_stage": stage,
                "job_title": title or None, "custom_fields": custom, "channels": channels}  # fmt: skip
        assert (await client.post("/v1/contacts", json=body, headers=headers)).status_code == 201
    base = cond("last_name", "eq", "opsx")
    cases: list[tuple[dict[str, Any], int]] = [
        (cond("lifecycle_stage", "neq", "lead"), 1),
        (cond("lifecycle_stage", "not_in", ["lead", "lost"]), 1),
        (cond("lifecycle_stage", "in", ["lead"]), 2),
        (cond("job_title", "is_empty"), 1),
        (cond("job_title", "contains", "rok"), 1),
        (cond("first_name", "in", ["ops1", "OPS3"]), 2),
        (cond("first_name", "neq", "ops1"), 2),
        (cond("owner_user_id", "eq", str(world.a.admin_id)), 3),
        (cond("owner_user_id", "is_empty"), 0),
        (cond("company_id", "is_empty"), 3),
        (cond("is_private", "eq", False), 3),
        (cond("created_at", "lt", "2000-01-01"), 0),
        (cond("updated_at", "gt", "2000-01-01T00:00:00"), 3),
        (cond("phone", "contains", "9870001"), 1),
        (cond("phone", "eq", "+20 100 987 0001"), 1),
        (cond("email", "is_empty"), 2),
        (cond("has_verified_channel", "eq", False), 3),
        (cond("email_opt_in", "eq", False), 3),
        (cond("cf.notes", "contains", "شقه"), 1),
        (cond("cf.notes", "neq", "x"), 3),
        (cond("cf.tier", "eq", "gold"), 1),
        (cond("cf.tier", "neq", "gold"), 2),
        (cond("cf.tier", "not_in", ["gold", "silver"]), 1),
        (cond("cf.vip", "eq", True), 1),
        (cond("cf.since", "lt", "2025-01-01"), 1),
        (cond("cf.since", "gte", "2024-05-01"), 2),
        (cond("cf.since", "is_empty"), 1),
    ]
    for condition, expected in cases:
        got = await count(client, world, {"op": "and", "conditions": [base, condition]})
        assert got == expected, (condition, got)


async def test_company_segments_count_companies(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    for name, city in (("Seg One", "Cairo"), ("Seg Two", "Dubai")):
        made = await client.post(
            "/v1/companies", json={"name": name, "city": city}, headers=headers
        )
        assert made.status_code == 201
    definition = {"op": "and", "conditions": [
        cond("name", "starts_with", "seg "), cond("city", "eq", "cairo")]}  # fmt: skip
    response = await client.post(
        f"{URL}/preview", json={"entity": "company", "definition": definition}, headers=headers
    )
    assert response.json() == {"count": 1}
    saved = await client.post(
        URL,
        json={"name": "Cairo cos", "entity": "company", "definition": definition},
        headers=headers,
    )
    members = await client.get(f"{URL}/{saved.json()['id']}/members", headers=headers)
    assert [c["name"] for c in members.json()["items"]] == ["Seg One"]
    listed = await client.get(
        "/v1/companies", params={"segment": saved.json()["id"]}, headers=headers
    )
    assert [c["name"] for c in listed.json()["items"]] == ["Seg One"]
