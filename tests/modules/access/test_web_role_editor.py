"""The role editor: a new custom role with its permission matrix, renaming and changing
it, a built-in role's fixed matrix, deletion refused while held, and every refusal."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from tests.conftest import World
from tests.factories import make_user
from tests.modules.access.test_visibility import role_id
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def api_role(client: httpx.AsyncClient, world: World, code: str) -> dict[str, Any]:
    roles = (await client.get("/v1/admin/roles", headers=world.headers(world.a))).json()
    found: dict[str, Any] = next(r for r in roles if r["code"] == code)
    return found


async def codes_of(client: httpx.AsyncClient, world: World, rid: str) -> list[str]:
    r = await client.get(f"/v1/admin/roles/{rid}/permissions", headers=world.headers(world.a))
    assert r.status_code == 200, r.text
    return sorted(p["code"] for p in r.json()["permissions"])


async def create(client: httpx.AsyncClient, world: World, **form: Any) -> httpx.Response:
    return await client.post("/admin/roles/new", data=form, headers=cookie(world) | HTMX)


async def test_create_edit_and_delete_a_custom_role(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    page = await client.get("/admin/roles/new", headers=cookie(world))
    assert page.status_code == 200 and 'data-testid="permission-matrix"' in page.text
    assert 'value="contact.read"' in page.text and "Contacts and companies" in page.text
    made = await create(
        client, world, code="closer", name="Closer", permissions=["contact.read", "deal.read"]
    )
    assert made.status_code == 204, made.text
    rid = made.headers["HX-Redirect"].rsplit("/", 1)[1]
    assert await codes_of(client, world, rid) == ["contact.read", "deal.read"]

    shown = await client.get(f"/admin/roles/{rid}", headers=cookie(world))
    assert re.search(r'value="deal.read"[^>]*checked', shown.text)
    saved = await client.post(
        f"/admin/roles/{rid}",
        data={"name": "Deal closer", "permissions": ["deal.read", "deal.update"]},
        headers=cookie(world) | HTMX,
    )
    assert saved.status_code == 200 and "✓" in saved.text
    assert await codes_of(client, world, rid) == ["deal.read", "deal.update"]
    assert (await api_role(client, world, "closer"))["name"] == "Deal closer"

    await bind_tenant(session, world.a.id, None)
    holder = await make_user(session, tenant_id=world.a.id, email="closer@a.test", role="closer")
    refused = await client.post(f"/admin/roles/{rid}/delete", headers=cookie(world) | HTMX)
    assert refused.status_code == 409 and "closer@a.test" in refused.text
    changed = await client.post(
        f"/v1/admin/users/{holder}/roles",
        json={"assign": ["staff"], "remove": ["closer"]},
        headers=world.headers(world.a),
    )
    assert changed.status_code == 200, changed.text
    deleted = await client.post(f"/admin/roles/{rid}/delete", headers=cookie(world) | HTMX)
    assert deleted.status_code == 204 and deleted.headers["HX-Redirect"] == "/admin/roles"
    gone = await client.get(f"/admin/roles/{rid}", headers=cookie(world))
    assert gone.status_code == 404


async def test_a_built_in_roles_matrix_is_fixed(client: httpx.AsyncClient, world: World) -> None:
    rid = await role_id(client, world, "sales_agent")
    before = await codes_of(client, world, rid)
    page = await client.get(f"/admin/roles/{rid}", headers=cookie(world))
    assert "Built-in" in page.text
    assert re.search(r'value="contact.read"[^>]*checked[^>]*disabled', page.text)
    renamed = await client.post(
        f"/admin/roles/{rid}",
        data={"name": "Field agent", "permissions": ["contact.read"]},
        headers=cookie(world) | HTMX,
    )
    assert renamed.status_code == 200
    assert await codes_of(client, world, rid) == before
    assert (await api_role(client, world, "sales_agent"))["name"] == "Field agent"
    refused = await client.post(f"/admin/roles/{rid}/delete", headers=cookie(world) | HTMX)
    assert refused.status_code == 409


async def test_refusals_are_shown_on_their_field(client: httpx.AsyncClient, world: World) -> None:
    bad_code = await create(client, world, code="Bad Code", name="X", permissions=["deal.read"])
    assert bad_code.status_code == 422 and 'id="role-code-error"' in bad_code.text
    assert re.search(r'value="deal.read"[^>]*checked', bad_code.text)  # the choice is kept
    no_name = await create(client, world, code="nameless", name="")
    assert no_name.status_code == 422 and 'id="role-name-error"' in no_name.text
    unknown = await create(client, world, code="odd", name="Odd", permissions=["no.such"])
    assert unknown.status_code == 422 and "Choose permissions from the list." in unknown.text
    taken = await create(client, world, code="staff", name="Staff again")
    assert taken.status_code == 409 and 'id="role-code-error"' in taken.text


async def test_who_may_open_and_change_it(client: httpx.AsyncClient, world: World) -> None:
    rid = await role_id(client, world, "staff")
    anonymous = await client.get(f"/admin/roles/{rid}", headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    member = await client.get(f"/admin/roles/{rid}", headers=cookie(world, "member"))
    assert member.status_code == 403
    new_page = await client.get("/admin/roles/new", headers=cookie(world, "agent"))
    assert new_page.status_code == 403
    agent = await client.post(
        "/admin/roles/new",
        data={"code": "sneaky", "name": "Sneaky"},
        headers=cookie(world, "agent") | HTMX,
    )
    assert agent.status_code == 403
    cross_site = await client.post(
        f"/admin/roles/{rid}", data={"name": "Renamed"}, headers=cookie(world)
    )
    assert cross_site.status_code == 403
    theirs = await client.get(f"/admin/roles/{rid}", headers=cookie(world, tenant="b"))
    assert theirs.status_code == 404
    theirs_saved = await client.post(
        f"/admin/roles/{rid}", data={"name": "Mine now"}, headers=cookie(world, tenant="b") | HTMX
    )
    assert theirs_saved.status_code == 404
    assert (await api_role(client, world, "staff"))["name"] != "Mine now"


async def test_a_role_page_shows_what_it_inherits(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers(world.a)
    keeper = await client.post(
        "/v1/admin/roles",
        headers=admin,
        json={"code": "keeper", "name": "Keeper", "permissions": ["customfields.manage"]},
    )
    manager = await role_id(client, world, "sales_manager")
    edge = await client.post(
        "/v1/admin/roles/hierarchy",
        headers=admin,
        json={"parent_role_id": manager, "child_role_id": keeper.json()["id"]},
    )
    assert edge.status_code == 201, edge.text
    page = await client.get(f"/admin/roles/{manager}", headers=cookie(world))
    assert 'data-inherited="customfields.manage"' in page.text
    assert 'data-inherited="contact.read"' not in page.text  # carried by the role itself


async def test_give_and_take_a_role_from_its_page(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await bind_tenant(session, world.a.id, None)
    person = await make_user(session, tenant_id=world.a.id, email="holder@a.test", role="staff")
    rid = await role_id(client, world, "sales_agent")
    page = await client.get(f"/admin/roles/{rid}", headers=cookie(world))
    assert 'id="matrix-search"' in page.text and 'data-testid="role-holders"' in page.text
    given = await client.post(
        f"/admin/roles/{rid}/holders", data={"user_id": str(person)}, headers=cookie(world) | HTMX
    )
    assert given.status_code == 200 and "holder@a.test" in given.text
    user = await client.get(f"/v1/admin/users/{person}", headers=world.headers(world.a))
    assert "sales_agent" in user.json()["roles"]
    taken = await client.post(
        f"/admin/roles/{rid}/holders/{person}/remove", headers=cookie(world) | HTMX
    )
    listed = taken.text.split('data-testid="role-holders"', 1)[1].split("</ul>", 1)[0]
    assert taken.status_code == 200 and "holder@a.test" not in listed
    own = await client.post(
        f"/admin/roles/{await role_id(client, world, 'admin')}/holders/{world.a.admin_id}/remove",
        headers=cookie(world) | HTMX,
    )
    assert own.status_code == 409 and 'role="alert"' in own.text  # one's own right to assign
    agent = await client.post(
        f"/admin/roles/{rid}/holders",
        data={"user_id": str(person)},
        headers=cookie(world, "agent") | HTMX,
    )
    assert agent.status_code == 403
    theirs = await client.post(
        f"/admin/roles/{rid}/holders",
        data={"user_id": str(person)},
        headers=cookie(world, tenant="b") | HTMX,
    )
    assert theirs.status_code == 404
