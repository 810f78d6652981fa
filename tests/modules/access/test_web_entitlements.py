"""The Entitlements screen: overrides saved from the page per level (and seen by the JSON
API), the precedence preview with its winning column, the plan gate, bad input, and who
may open or change it."""

from __future__ import annotations

import re
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World, error_code
from tests.factories import make_user
from tests.modules.access.helpers import insert_group
from tests.modules.access.test_overrides import effective, join
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}
PAGE = "/admin/entitlements"
SAVE = "/admin/entitlements/overrides"
PREVIEW = "/admin/entitlements/preview"


def cookie_of(world: World, user_id: UUID) -> dict[str, str]:
    """A signed-in page visitor of tenant A who is not one of the seeded users."""
    token = mint_access_token(world.settings, tenant_id=world.a.id, user_id=user_id)
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}


async def save(
    client: httpx.AsyncClient, world: World, target: str, fields: dict[str, str] | None = None
) -> str:
    """Post the editor of `target` (fields `feature:<key>` / `limit:<key>`) as tenant A's
    admin; the page answers the editor and asks the preview to reload."""
    data = {"target": target} | (fields or {})
    response = await client.post(SAVE, data=data, headers=cookie(world) | HTMX)
    assert response.status_code == 200, response.text
    assert response.headers["HX-Trigger"] == "entitlements-changed"
    return response.text


def preview_row(html: str, key: str) -> tuple[str, int]:
    """(source, index of the winning cell) of one key in the precedence table; cells are
    plan, workspace, each group, person."""
    row = re.search(
        rf'<tr data-key="{re.escape(key)}" data-source="([^"]+)">(.*?)</tr>', html, re.S
    )
    assert row is not None, key
    cells = re.findall(r"<td[^>]*>", row.group(2))
    winners = [i for i, cell in enumerate(cells) if "data-winner" in cell]
    assert len(winners) == 1, cells
    return row.group(1), winners[0]


async def test_overrides_saved_from_the_page_reach_the_api(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    page = await client.get(PAGE, headers=cookie(world))
    assert page.status_code == 200
    for part in ("overrides-table", "precedence-table", "precedence-legend", "precedence-rule"):
        assert f'data-testid="{part}"' in page.text
    assert 'name="feature:admin.entitlementsOverrides"' not in page.text

    saved = await save(
        client, world, "tenant", {"feature:rbac.groups": "off", "limit:roles.max": "7"}
    )
    assert "✓" in saved and 'value="7"' in saved
    await bind_tenant(session, world.a.id, None)
    user = await make_user(session, tenant_id=world.a.id, email="ents@a.test", role="staff")
    await save(client, world, f"user:{user}", {"limit:roles.max": "12", "limit:groups.max": ""})

    eff = await effective(client, world, user)
    assert eff["limits"]["roles.max"] == (12, "user override")
    assert eff["features"]["rbac.groups"] == (False, "tenant override")
    admin = await effective(client, world, world.a.admin_id)
    assert admin["limits"]["roles.max"] == (7, "tenant override")
    stored = await client.get(
        f"/v1/admin/entitlements/overrides/user/{user}", headers=world.headers(world.a)
    )
    assert stored.json() == {"features": {}, "limits": {"roles.max": 12}}

    # The editor of a level shows what is stored; saving it blank removes it.
    editor = await client.get(SAVE, params={"target": "tenant"}, headers=cookie(world) | HTMX)
    assert editor.status_code == 200
    assert re.search(
        r'name="feature:rbac.groups".*?<option value="off" selected', editor.text, re.S
    )
    await save(client, world, "tenant")
    eff = await effective(client, world, user)
    assert eff["features"]["rbac.groups"] == (True, "plan:DevPro")


async def test_the_preview_shows_which_layer_wins(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    user = await make_user(session, tenant_id=world.a.id, email="prev@a.test", role="staff")
    small = await insert_group(session, world.a.id, "aa_small")
    large = await insert_group(session, world.a.id, "bb_large")
    await join(session, world, small, user)
    await join(session, world, large, user)
    await save(client, world, "tenant", {"limit:roles.max": "5"})
    await save(
        client, world, f"group:{small}", {"limit:roles.max": "3", "feature:rbac.groups": "on"}
    )
    await save(
        client, world, f"group:{large}", {"limit:roles.max": "9", "feature:rbac.groups": "off"}
    )

    preview = await client.get(PREVIEW, params={"user_id": str(user)}, headers=cookie(world) | HTMX)
    assert preview.status_code == 200
    assert 'data-group="aa_small"' in preview.text and 'data-group="bb_large"' in preview.text
    # plan 0, workspace 1, aa_small 2, bb_large 3, person 4: the larger group limit wins,
    # and a feature is on when any group turns it on.
    assert preview_row(preview.text, "roles.max") == ("group:bb_large", 3)
    assert preview_row(preview.text, "rbac.groups") == ("group:aa_small", 2)
    assert preview_row(preview.text, "contacts.max") == ("plan:DevPro", 0)

    await save(client, world, f"user:{user}", {"limit:roles.max": "1"})
    page = await client.get(PAGE, params={"user_id": str(user)}, headers=cookie(world))
    assert page.status_code == 200
    assert preview_row(page.text, "roles.max") == ("user override", 4)
    assert (await effective(client, world, user))["limits"]["roles.max"] == (1, "user override")
    # Someone in no group sees the workspace override win.
    mine = await client.get(PREVIEW, headers=cookie(world) | HTMX)
    assert preview_row(mine.text, "roles.max") == ("tenant override", 1)


async def test_who_may_open_and_change_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    anonymous = await client.get(PAGE, headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    member = await client.get(PAGE, headers=cookie(world, "member"))
    assert member.status_code == 403
    assert (await client.get(PREVIEW, headers=cookie(world, "member") | HTMX)).status_code == 403

    # `entitlements.view` without `entitlements.overrides.manage`: read-only, POST 403.
    await bind_tenant(session, world.a.id, None)
    finance = await make_user(
        session, tenant_id=world.a.id, email="fin@a.test", role="finance_manager"
    )
    viewer = await client.get(PAGE, headers=cookie_of(world, finance))
    assert viewer.status_code == 200
    assert "changing them needs the right to manage entitlements" in viewer.text
    assert ">Save<" not in viewer.text and "disabled" in viewer.text
    refused = await client.post(
        SAVE, data={"target": "tenant"}, headers=cookie_of(world, finance) | HTMX
    )
    assert refused.status_code == 403
    agent = await client.post(
        SAVE, data={"target": "tenant"}, headers=cookie(world, "agent") | HTMX
    )
    assert agent.status_code == 403

    cross_site = await client.post(SAVE, data={"target": "tenant"}, headers=cookie(world))
    assert cross_site.status_code == 403
    stored = await client.get(
        "/v1/admin/entitlements/overrides/tenant", headers=world.headers(world.a)
    )
    assert stored.json() == {"features": {}, "limits": {}}


async def test_another_tenants_group_or_person_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await insert_group(session, world.b.id)
    headers = cookie(world) | HTMX
    for target in (f"group:{theirs}", f"user:{world.b.admin_id}"):
        editor = await client.get(SAVE, params={"target": target}, headers=headers)
        assert editor.status_code == 404, target
        posted = await client.post(
            SAVE, data={"target": target, "limit:roles.max": "1"}, headers=headers
        )
        assert posted.status_code == 404, target
        page = await client.get(PAGE, params={"target": target}, headers=cookie(world))
        assert page.status_code == 404, target
    preview = await client.get(PREVIEW, params={"user_id": str(world.b.admin_id)}, headers=headers)
    assert preview.status_code == 404
    page = await client.get(PAGE, params={"user_id": str(world.b.admin_id)}, headers=cookie(world))
    assert page.status_code == 404
    # Tenant B's group is untouched.
    found = await client.get(
        f"/v1/admin/entitlements/overrides/group/{theirs}", headers=world.headers(world.b)
    )
    assert found.json() == {"features": {}, "limits": {}}


async def test_a_plan_without_overrides_is_read_only(
    client: httpx.AsyncClient, world: World
) -> None:
    page = await client.get(PAGE, headers=cookie(world, tenant="b"))
    assert page.status_code == 200
    assert 'data-testid="upgrade-notice"' in page.text and "Ask for an upgrade" in page.text
    assert ">Save<" not in page.text
    refused = await client.post(
        SAVE,
        data={"target": "tenant", "limit:roles.max": "1"},
        headers=cookie(world, tenant="b") | HTMX,
    )
    assert refused.status_code == 402
    assert 'data-error-code="PLAN_REQUIRED"' in refused.text
    json = await client.put(
        "/v1/admin/entitlements/overrides/tenant", json={}, headers=world.headers(world.b)
    )
    assert json.status_code == 402 and error_code(json) == "PLAN_REQUIRED"


async def test_bad_input_is_refused_beside_its_field(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = cookie(world) | HTMX
    bad = await client.post(
        SAVE,
        data={
            "target": "tenant",
            "limit:roles.max": "ten",
            "limit:groups.max": "-1",
            "limit:users.max": "5",
            "feature:rbac.groups": "maybe",
        },
        headers=headers,
    )
    assert bad.status_code == 422
    for name in ("limit:roles.max", "limit:groups.max", "feature:rbac.groups"):
        assert f'id="ov-{name}-error"' in bad.text, name
    assert 'id="ov-limit:users.max-error"' not in bad.text
    assert 'value="ten"' in bad.text  # the posted values are kept
    stored = await client.get(
        "/v1/admin/entitlements/overrides/tenant", headers=world.headers(world.a)
    )
    assert stored.json() == {"features": {}, "limits": {}}
    for target in ("nobody", "group:not-a-uuid", "tenant:0190"):
        refused = await client.post(SAVE, data={"target": target}, headers=headers)
        assert refused.status_code == 422, target
    assert (await client.get(SAVE, params={"target": "x"}, headers=headers)).status_code == 422
