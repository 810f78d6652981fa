"""The Dictionaries screen: the list with its Standard rows, an own entry added, edited,
deactivated and reactivated in place, and every refusal shown where it belongs."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from tests.conftest import World
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}
PAGE = "/admin/dictionaries/job-titles"
ADMIN_API = "/v1/admin/dictionaries/job-titles"
NEW = {"code": "leasing_agent", "label_en": "Leasing agent", "label_ar": "وكيل تأجير"}
UNKNOWN_ID = "01900000-0000-7000-8000-000000000000"


async def _api_entry(client: httpx.AsyncClient, world: World, code: str) -> dict[str, Any]:
    listed = await client.get(ADMIN_API, headers=world.headers(world.a))
    entry: dict[str, Any] = next(e for e in listed.json() if e["code"] == code)
    return entry


async def test_page_lists_global_entries_read_only(client: httpx.AsyncClient, world: World) -> None:
    start = await client.get("/admin/dictionaries", headers=cookie(world))
    assert start.status_code == 303 and start.headers["location"] == PAGE
    page = await client.get(PAGE, headers=cookie(world))
    assert page.status_code == 200
    assert 'data-testid="dictionary-entries"' in page.text
    assert (
        'data-testid="add-entry"' in page.text and 'data-testid="upgrade-notice"' not in page.text
    )
    broker = re.search(r'<tr id="entry-[^"]+" data-code="broker".*?</tr>', page.text, re.S)
    assert broker is not None
    row = broker.group(0)
    assert "Standard" in row and "وسيط عقاري" in row and 'dir="rtl" lang="ar"' in row
    assert 'translate="no"' in row and "/edit" not in row and "deactivate" not in row
    departments = await client.get("/admin/dictionaries/departments", headers=cookie(world))
    assert departments.status_code == 200 and 'data-code="sales"' in departments.text
    assert (
        await client.get("/admin/dictionaries/colours", headers=cookie(world))
    ).status_code == 404


async def test_add_edit_deactivate_reactivate_own_entry(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = cookie(world) | HTMX
    added = await client.post(PAGE, data={**NEW, "sort_order": "5"}, headers=headers)
    assert added.status_code == 200, added.text
    assert 'data-code="leasing_agent"' in added.text and 'role="status"' in added.text
    entry = await _api_entry(client, world, "leasing_agent")
    assert entry["is_global"] is False and entry["sort_order"] == 5
    assert entry["label_ar"] == "وكيل تأجير"
    url = f"{PAGE}/{entry['id']}"

    edit = await client.get(f"{url}/edit", headers=headers)
    assert edit.status_code == 200 and 'name="label_en"' in edit.text
    assert 'value="Leasing agent"' in edit.text
    saved = await client.post(
        url,
        data={"label_en": "Lettings agent", "label_ar": "وكيل إيجار", "sort_order": "7"},
        headers=headers,
    )
    assert saved.status_code == 200 and "Lettings agent" in saved.text
    assert 'name="label_en"' not in saved.text  # the display row again
    entry = await _api_entry(client, world, "leasing_agent")
    assert (entry["label_en"], entry["label_ar"], entry["sort_order"]) == (
        "Lettings agent",
        "وكيل إيجار",
        7,
    )
    cancel = await client.get(url, headers=headers)
    assert cancel.status_code == 200 and "Lettings agent" in cancel.text

    off = await client.post(f"{url}/deactivate", headers=headers)
    assert off.status_code == 200 and "Inactive" in off.text and "/reactivate" in off.text
    assert (await _api_entry(client, world, "leasing_agent"))["is_active"] is False
    on = await client.post(f"{url}/reactivate", headers=headers)
    assert on.status_code == 200 and "/deactivate" in on.text
    assert (await _api_entry(client, world, "leasing_agent"))["is_active"] is True


async def test_bad_input_shows_field_messages(client: httpx.AsyncClient, world: World) -> None:
    headers = cookie(world) | HTMX
    empty_label = await client.post(PAGE, data={**NEW, "label_en": "  "}, headers=headers)
    assert empty_label.status_code == 422
    assert 'data-field-error="label_en"' in empty_label.text
    assert 'value="leasing_agent"' in empty_label.text  # what was typed stays
    bad_code = await client.post(PAGE, data={**NEW, "code": "Not A Code"}, headers=headers)
    assert bad_code.status_code == 422
    assert 'data-field-error="code"' in bad_code.text
    assert "Use 2 to 40 lower-case letters, digits or underscores." in bad_code.text
    bad_order = await client.post(PAGE, data={**NEW, "sort_order": "-1"}, headers=headers)
    assert bad_order.status_code == 422 and 'data-field-error="sort_order"' in bad_order.text
    taken = await client.post(PAGE, data={**NEW, "code": "broker"}, headers=headers)
    assert taken.status_code == 409
    assert 'data-field-error="code"' in taken.text
    assert "An entry with this code already exists." in taken.text
    assert (await client.post(PAGE, data=NEW, headers=headers)).status_code == 200
    twice = await client.post(PAGE, data=NEW, headers=headers)
    assert twice.status_code == 409 and 'data-field-error="code"' in twice.text

    entry = await _api_entry(client, world, "leasing_agent")
    url = f"{PAGE}/{entry['id']}"
    blank = await client.post(
        url, data={"label_en": "", "label_ar": "وكيل", "sort_order": "1"}, headers=headers
    )
    assert blank.status_code == 422 and 'data-field-error="label_en"' in blank.text
    assert 'name="label_en"' in blank.text  # the edit row again
    assert (await _api_entry(client, world, "leasing_agent"))["label_en"] == "Leasing agent"


async def test_access_refusals(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    anonymous = await client.get(PAGE, headers={"Accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert (await client.get(PAGE, headers=cookie(world, "member"))).status_code == 403
    assert (
        await client.get("/admin/dictionaries", headers=cookie(world, "member"))
    ).status_code == 403
    refused = await client.post(PAGE, data=NEW, headers=cookie(world, "member") | HTMX)
    assert refused.status_code == 403
    cross_site = await client.post(PAGE, data=NEW, headers=cookie(world))
    assert cross_site.status_code == 403
    listed = await client.get(ADMIN_API, headers=world.headers(world.a))
    assert "leasing_agent" not in {e["code"] for e in listed.json()}

    # A global row and an unknown id are 404, like another tenant's row.
    broker = await _api_entry(client, world, "broker")
    headers = cookie(world) | HTMX
    for entry_id in (broker["id"], UNKNOWN_ID):
        assert (await client.get(f"{PAGE}/{entry_id}/edit", headers=headers)).status_code == 404
        assert (
            await client.post(f"{PAGE}/{entry_id}/deactivate", headers=headers)
        ).status_code == 404


async def test_other_tenants_entry_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    made = await client.post(ADMIN_API, json=NEW, headers=world.headers(world.a))
    assert made.status_code == 201
    url = f"{PAGE}/{made.json()['id']}"
    b_admin = cookie(world, tenant="b") | HTMX
    assert (await client.get(f"{url}/edit", headers=b_admin)).status_code == 404
    assert (await client.get(url, headers=b_admin)).status_code == 404
    data = {"label_en": "Mine", "label_ar": "لي", "sort_order": "1"}
    assert (await client.post(url, data=data, headers=b_admin)).status_code == 404
    assert (await client.post(f"{url}/deactivate", headers=b_admin)).status_code == 404
    assert (await client.post(f"{url}/reactivate", headers=b_admin)).status_code == 404
    unchanged = await _api_entry(client, world, "leasing_agent")
    assert unchanged["label_en"] == "Leasing agent" and unchanged["is_active"] is True
    # B's own row (B is on DevFree) stays hidden and cannot be changed: 402 from the plan.
    await bind_tenant(session, world.b.id, None)
    await session.execute(
        text(
            "INSERT INTO job_title_codes (id, tenant_id, code, label_en, label_ar)"
            " VALUES (gen_random_uuid(), :t, 'bravo_only', 'Bravo', 'برافو')"
        ),
        {"t": str(world.b.id)},
    )
    bravo_id = (
        await session.execute(text("SELECT id FROM job_title_codes WHERE code = 'bravo_only'"))
    ).scalar_one()
    b_page = await client.get(PAGE, headers=cookie(world, tenant="b"))
    assert 'data-code="bravo_only"' not in b_page.text
    plan = await client.post(f"{PAGE}/{bravo_id}/deactivate", headers=b_admin)
    assert plan.status_code == 402


async def test_plan_without_the_feature_shows_an_upgrade_notice(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get(PAGE, headers=cookie(world, tenant="b"))
    assert page.status_code == 200
    assert (
        'data-testid="upgrade-notice"' in page.text and 'data-testid="add-entry"' not in page.text
    )
    assert 'data-code="broker"' in page.text and "Standard" in page.text
    refused = await client.post(PAGE, data=NEW, headers=cookie(world, tenant="b") | HTMX)
    assert refused.status_code == 402
    listed = await client.get(ADMIN_API, headers=world.headers(world.b))
    assert "leasing_agent" not in {e["code"] for e in listed.json()}


async def test_page_in_arabic(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    await session.execute(
        text("UPDATE users SET locale = 'ar' WHERE id = :u"), {"u": str(world.a.admin_id)}
    )
    page = await client.get(PAGE, headers=cookie(world))
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl"' in page.text
    assert 'dir="ltr" translate="no">broker</code>' in page.text
