"""Coded dictionaries: global rows for all, tenant rows for their tenant, the plan feature,
the admin API's refusals, and the profile's job title and department."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from tests.conftest import World, error_code

ADMIN = "/v1/admin/dictionaries"
READ = "/v1/dictionaries"
NEW_TITLE = {"code": "leasing_agent", "label_en": "Leasing agent", "label_ar": "وكيل تأجير"}


async def _insert_own(session: AsyncSession, tenant_id: UUID, table: str, code: str) -> None:
    """A tenant row written straight to the table (as the app role, RLS in force)."""
    await bind_tenant(session, tenant_id, None)
    await session.execute(
        text(
            f"INSERT INTO {table} (id, tenant_id, code, label_en, label_ar)"
            " VALUES (gen_random_uuid(), :t, :c, :c, :c)"
        ),
        {"t": str(tenant_id), "c": code},
    )


async def test_global_rows_are_seeded_and_visible_to_every_tenant(
    client: httpx.AsyncClient, world: World
) -> None:
    for tenant in (world.a, world.b):
        titles = await client.get(f"{READ}/job-titles", headers=world.headers(tenant, "member"))
        assert titles.status_code == 200, titles.text
        codes = [e["code"] for e in titles.json()]
        assert {"sales_agent", "broker", "call_centre_agent"} <= set(codes)
        assert len(codes) >= 10 and all(e["is_global"] for e in titles.json())
        departments = await client.get(f"{READ}/departments", headers=world.headers(tenant))
        assert len(departments.json()) >= 8
    broker = next(e for e in titles.json() if e["code"] == "broker")
    assert broker["label_en"] == "Broker" and broker["label_ar"] == "وسيط عقاري"


async def test_label_follows_the_request_locale(client: httpx.AsyncClient, world: World) -> None:
    arabic = await client.get(f"{READ}/departments", headers=world.headers(world.a, "agent"))
    sales = next(e for e in arabic.json() if e["code"] == "sales")
    assert sales["label"] == "المبيعات"  # the agent's own language
    english = await client.get(
        f"{READ}/departments", params={"lang": "en"}, headers=world.headers(world.a, "agent")
    )
    assert next(e for e in english.json() if e["code"] == "sales")["label"] == "Sales"


async def test_create_update_deactivate_own_entry_audited(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    made = await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE, headers=headers)
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["is_global"] is False and entry["label"] == "Leasing agent"
    url = f"{ADMIN}/job-titles/{entry['id']}"
    patched = await client.patch(url, json={"label_en": "Lettings agent"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["label_en"] == "Lettings agent"
    listed = await client.get(f"{READ}/job-titles", headers=world.headers(world.a, "member"))
    assert "leasing_agent" in {e["code"] for e in listed.json()}
    assert (await client.delete(url, headers=headers)).status_code == 204
    listed = await client.get(f"{READ}/job-titles", headers=headers)
    assert "leasing_agent" not in {e["code"] for e in listed.json()}
    admin_list = await client.get(f"{ADMIN}/job-titles", headers=headers)
    own = next(e for e in admin_list.json() if e["code"] == "leasing_agent")
    assert own["is_active"] is False
    rows = (
        await session.execute(
            text(
                "SELECT action, before_data, after_data FROM audit_logs"
                " WHERE tenant_id = :t AND entity_id = :e ORDER BY occurred_at, id"
            ),
            {"t": str(world.a.id), "e": entry["id"]},
        )
    ).all()
    assert [r.action for r in rows] == [
        "job_title_code.created",
        "job_title_code.updated",
        "job_title_code.updated",
    ]
    assert rows[1].before_data["label_en"] == "Leasing agent"
    assert rows[1].after_data["label_en"] == "Lettings agent"
    assert rows[2].after_data["is_active"] is False


async def test_tenant_rows_are_visible_only_to_their_tenant(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    made = await client.post(f"{ADMIN}/departments", json=NEW_TITLE, headers=world.headers(world.a))
    assert made.status_code == 201
    await _insert_own(session, world.b.id, "department_codes", "bravo_only")
    seen_by_a = await client.get(f"{READ}/departments", headers=world.headers(world.a))
    assert "leasing_agent" in {e["code"] for e in seen_by_a.json()}
    assert "bravo_only" not in {e["code"] for e in seen_by_a.json()}
    seen_by_b = await client.get(f"{READ}/departments", headers=world.headers(world.b))
    codes_b = {e["code"] for e in seen_by_b.json()}
    assert "leasing_agent" not in codes_b
    # B is on DevFree: its own rows stay hidden, only the global codes show.
    assert "bravo_only" not in codes_b and "sales" in codes_b
    # Another tenant's entry is 404, even to a tenant without the feature.
    other = f"{ADMIN}/departments/{made.json()['id']}"
    b_admin = world.headers(world.b)
    assert (await client.patch(other, json={"sort_order": 1}, headers=b_admin)).status_code == 404
    assert (await client.delete(other, headers=b_admin)).status_code == 404
    # A never reaches B's row by id.
    bravo_id = (
        await session.execute(text("SELECT id FROM department_codes WHERE code = 'bravo_only'"))
    ).scalar_one()
    await bind_tenant(session, world.a.id, None)
    theirs = f"{ADMIN}/departments/{bravo_id}"
    assert (await client.delete(theirs, headers=world.headers(world.a))).status_code == 404
    # B's own entry exists, but B's plan lacks the feature: 402.
    refused = await client.patch(theirs, json={"sort_order": 1}, headers=b_admin)
    assert refused.status_code == 402 and error_code(refused) == "PLAN_REQUIRED"


async def test_refusals(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    assert (await client.get(f"{READ}/job-titles")).status_code == 401
    assert (await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE)).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.get(f"{ADMIN}/job-titles", headers=member)).status_code == 403
    assert (
        await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE, headers=member)
    ).status_code == 403
    free = await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE, headers=world.headers(world.b))
    assert free.status_code == 402 and error_code(free) == "PLAN_REQUIRED"
    assert (await client.get(f"{READ}/colours", headers=headers)).status_code == 404
    for code in ("A", "Has Space", "x", "a" * 41, "bad-dash"):
        bad = await client.post(
            f"{ADMIN}/job-titles", json={**NEW_TITLE, "code": code}, headers=headers
        )
        assert bad.status_code == 422, code
    taken_global = await client.post(
        f"{ADMIN}/job-titles", json={**NEW_TITLE, "code": "broker"}, headers=headers
    )
    assert taken_global.status_code == 409 and error_code(taken_global) == "CONFLICT"
    assert (
        await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE, headers=headers)
    ).status_code == 201
    again = await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE, headers=headers)
    assert again.status_code == 409
    # The same code in the other dictionary is fine.
    assert (
        await client.post(f"{ADMIN}/departments", json=NEW_TITLE, headers=headers)
    ).status_code == 201


async def test_global_rows_cannot_be_changed(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    listed = await client.get(f"{ADMIN}/job-titles", headers=headers)
    broker = next(e for e in listed.json() if e["code"] == "broker")
    url = f"{ADMIN}/job-titles/{broker['id']}"
    patched = await client.patch(url, json={"label_en": "Mine now"}, headers=headers)
    assert patched.status_code == 404 and error_code(patched) == "NOT_FOUND"
    assert (await client.delete(url, headers=headers)).status_code == 404
    still = await client.get(f"{READ}/job-titles", headers=headers)
    assert next(e for e in still.json() if e["code"] == "broker")["label_en"] == "Broker"
    unknown = f"{ADMIN}/job-titles/00000000-0000-7000-8000-000000000000"
    assert (await client.patch(unknown, json={"sort_order": 2}, headers=headers)).status_code == 404


async def test_profile_job_title_and_department(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a, "member")
    body = {"job_title_code": "broker", "department_code": "sales"}
    set_ = await client.patch("/v1/me/profile", json=body, headers=headers)
    assert set_.status_code == 200, set_.text
    assert set_.json()["job_title_code"] == "broker"
    read = await client.get("/v1/me/profile", headers=headers)
    assert read.json()["department_code"] == "sales"
    unknown = await client.patch(
        "/v1/me/profile", json={"job_title_code": "astronaut"}, headers=headers
    )
    assert unknown.status_code == 422
    assert "job_title_code" in unknown.json()["error"]["details"]["fields"]
    bad_shape = await client.patch(
        "/v1/me/profile", json={"department_code": "Not A Code"}, headers=headers
    )
    assert bad_shape.status_code == 422
    cleared = await client.patch("/v1/me/profile", json={"job_title_code": None}, headers=headers)
    assert cleared.json()["job_title_code"] is None and cleared.json()["department_code"] == "sales"
    # A custom code works for its tenant, stops working once deactivated.
    admin = world.headers(world.a)
    made = await client.post(f"{ADMIN}/job-titles", json=NEW_TITLE, headers=admin)
    ok = await client.patch(
        "/v1/me/profile", json={"job_title_code": "leasing_agent"}, headers=headers
    )
    assert ok.status_code == 200
    await client.delete(f"{ADMIN}/job-titles/{made.json()['id']}", headers=admin)
    inactive = await client.patch(
        "/v1/me/profile", json={"job_title_code": "leasing_agent"}, headers=headers
    )
    assert inactive.status_code == 422
    # Another tenant's code (and, on DevFree, even one's own custom code) is unknown.
    await _insert_own(session, world.b.id, "job_title_codes", "bravo_title")
    other = await client.patch(
        "/v1/me/profile", json={"job_title_code": "bravo_title"}, headers=headers
    )
    assert other.status_code == 422
    free = await client.patch(
        "/v1/me/profile", json={"job_title_code": "bravo_title"}, headers=world.headers(world.b)
    )
    assert free.status_code == 422


async def test_admin_sets_a_users_job_title(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    url = f"/v1/admin/users/{world.a.member_id}"
    done = await client.patch(url, json={"job_title_code": "team_lead"}, headers=headers)
    assert done.status_code == 200, done.text
    bad = await client.patch(url, json={"department_code": "nowhere"}, headers=headers)
    assert bad.status_code == 422
    assert "department_code" in bad.json()["error"]["details"]["fields"]
    member = await client.get("/v1/me/profile", headers=world.headers(world.a, "member"))
    assert member.json()["job_title_code"] == "team_lead"
    audit = (
        await session.execute(
            text(
                "SELECT before_data, after_data FROM audit_logs WHERE tenant_id = :t"
                " AND action = 'user.updated' AND entity_id = :e"
            ),
            {"t": str(world.a.id), "e": str(world.a.member_id)},
        )
    ).one()
    assert audit.before_data["job_title_code"] is None
    assert audit.after_data["job_title_code"] == "team_lead"
