"""The person page `/admin/users/{id}`: tabs Profile, Security, Access, Preferences, Audit;
lifecycle, sign-out and password-reset actions from the page; who may see and do what."""

from __future__ import annotations

import re
from uuid import uuid4

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.audit import EntityRef, SystemActor, record
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import TenantId
from tests.conftest import World
from tests.modules.contacts.helpers import make_contact
from tests.modules.identity.test_users_admin import new_user, open_session
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


def page_url(user_id: object, tab: str | None = None) -> str:
    return f"/admin/users/{user_id}" + (f"?tab={tab}" if tab else "")


def current_tab(html: str) -> str | None:
    found = re.search(r'data-tab="(\w+)" aria-current="page"', html)
    return found.group(1) if found else None


async def test_each_tab_renders_for_an_admin(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "tabs@alpha.test", role="sales_agent")
    await open_session(session, world, user)
    admin = world.headers(world.a)
    work = {"job_title_code": "broker", "department_code": "sales"}
    assert (await client.patch(f"/v1/admin/users/{user}", json=work, headers=admin)).is_success
    group = await client.post(
        "/v1/admin/groups", json={"code": "detail_team", "name": "Detail team"}, headers=admin
    )
    members = {"user_ids": [str(user)]}
    added = await client.post(
        f"/v1/admin/groups/{group.json()['id']}/members", json=members, headers=admin
    )
    assert added.is_success, added.text

    profile = await client.get(page_url(user), headers=cookie(world))
    assert profile.status_code == 200 and current_tab(profile.text) == "profile"
    assert 'data-tab-panel="profile"' in profile.text and "Broker" in profile.text
    assert 'data-status="active"' in profile.text and 'data-testid="lifecycle"' in profile.text
    assert 'data-action="suspend"' in profile.text and 'data-action="deactivate"' in profile.text
    assert "/reinstate" not in profile.text  # an active person cannot be reinstated
    for tab in ("security", "access", "preferences", "audit"):
        assert f'data-tab="{tab}"' in profile.text

    security = await client.get(page_url(user, "security"), headers=cookie(world))
    assert security.status_code == 200 and current_tab(security.text) == "security"
    assert 'data-count="1"' in security.text and 'data-testid="user-sessions"' in security.text
    assert f"/admin/users/{user}/force-logout" in security.text
    assert f"/admin/users/{user}/reset-password" in security.text
    assert 'data-testid="totp"><span' in security.text  # the state badge

    access = await client.get(page_url(user, "access"), headers=cookie(world))
    assert access.status_code == 200 and current_tab(access.text) == "access"
    assert 'data-testid="effective-permissions"' in access.text and "sales_agent" in access.text
    assert "Detail team" in access.text and f"/admin/groups/{group.json()['id']}" in access.text
    assert 'data-testid="effective-features"' in access.text and "plan:DevPro" in access.text

    prefs = await client.get(page_url(user, "preferences"), headers=cookie(world))
    assert prefs.status_code == 200 and current_tab(prefs.text) == "preferences"
    assert 'data-preference="inbox_on_all" data-on="true"' in prefs.text
    assert 'data-preference="marketing_email_opt_in" data-on="false"' in prefs.text

    trail = await client.get(page_url(user, "audit"), headers=cookie(world))
    assert trail.status_code == 200 and current_tab(trail.text) == "audit"
    assert 'data-action="user.updated"' in trail.text  # about the person
    assert 'data-testid="audit-entry-link"' in trail.text and "/admin/audit?to=" in trail.text


async def test_audit_tab_lists_entries_about_and_by_the_person_and_loads_more(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "trail@alpha.test")
    tenant = TenantId(world.a.id)
    await bind_tenant(session, world.a.id, None)
    for _ in range(50):
        await record(session, SystemActor(tenant), "test.about", EntityRef("user", user))
    await record(session, SystemActor(tenant, user), "test.by", EntityRef("contact", uuid4()))
    await record(session, SystemActor(tenant), "test.other", EntityRef("contact", uuid4()))
    first = await client.get(page_url(user, "audit"), headers=cookie(world))
    assert first.status_code == 200
    assert first.text.count('data-action="test.about"') == 49  # newest 50, "by" first
    assert 'data-action="test.by"' in first.text and "test.other" not in first.text
    more = re.search(r'hx-get="(/admin/users/[^"]+/audit\?cursor=[^"]+)"', first.text)
    assert more is not None
    rest = await client.get(more.group(1).replace("&amp;", "&"), headers=cookie(world) | HTMX)
    assert rest.status_code == 200 and "<html" not in rest.text
    assert rest.text.count('data-action="test.about"') == 1 and "audit-more" not in rest.text
    fallback = re.search(r'href="(/admin/users/[^"]+\?tab=audit&amp;cursor=[^"]+)"', first.text)
    assert fallback is not None  # the same page without htmx
    older = await client.get(fallback.group(1).replace("&amp;", "&"), headers=cookie(world))
    assert older.status_code == 200 and older.text.count('data-action="test.about"') == 1


async def test_lifecycle_actions_from_the_page(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "life@alpha.test", role="sales_agent")
    heir = await new_user(session, world, "life-heir@alpha.test", role="sales_agent")
    await make_contact(session, world.a, owner_id=user)
    h = cookie(world) | HTMX
    form = await client.get(page_url(user), headers=cookie(world))
    assert f'value="{heir}"' in form.text and f'<option value="{user}"' not in form.text

    suspended = await client.post(f"/admin/users/{user}/suspend", headers=h)
    assert suspended.status_code == 200 and 'data-status="suspended"' in suspended.text
    assert 'data-testid="user-notice"' in suspended.text and "<html" not in suspended.text
    api = await client.get(f"/v1/admin/users/{user}", headers=world.headers(world.a))
    assert api.json()["status"] == "suspended"

    reinstated = await client.post(f"/admin/users/{user}/reinstate", headers=h)
    assert reinstated.status_code == 200 and 'data-status="active"' in reinstated.text

    refused = await client.post(f"/admin/users/{user}/deactivate", headers=h)
    assert refused.status_code == 409
    assert "This user owns records: choose who takes them over." in refused.text
    assert 'data-testid="lifecycle-refusal"' in refused.text and "contact 1" in refused.text
    assert 'data-status="active"' in refused.text
    wrong = await client.post(
        f"/admin/users/{user}/deactivate", data={"reassign_to": str(user)}, headers=h
    )
    assert wrong.status_code == 422 and "Choose another active user" in wrong.text

    done = await client.post(
        f"/admin/users/{user}/deactivate", data={"reassign_to": str(heir)}, headers=h
    )
    assert done.status_code == 200 and 'data-status="deactivated"' in done.text
    api = await client.get(f"/v1/admin/users/{user}", headers=world.headers(world.a))
    assert api.json()["status"] == "deactivated"


async def test_sign_out_everywhere_and_password_reset(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await new_user(session, world, "signout@alpha.test", role="sales_agent")
    await open_session(session, world, user)
    await open_session(session, world, user)
    h = cookie(world) | HTMX
    ended = await client.post(f"/admin/users/{user}/force-logout", headers=h)
    assert ended.status_code == 200 and 'data-count="0"' in ended.text
    assert "Sessions ended: 2." in ended.text
    sent = await client.post(f"/admin/users/{user}/reset-password", headers=h)
    assert sent.status_code == 200 and "password reset link was sent" in sent.text


async def test_guards(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    user = await new_user(session, world, "guard@alpha.test", role="sales_agent")
    anonymous = await client.get(page_url(user), headers={"Accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    member = await client.get(page_url(user), headers=cookie(world, "member"))
    assert member.status_code == 403
    for tab in (None, "security", "access", "preferences", "audit"):
        other = await client.get(page_url(world.b.agent_id, tab), headers=cookie(world))
        assert other.status_code == 404, tab
    assert (await client.get(page_url(uuid4()), headers=cookie(world))).status_code == 404
    bad_tab = await client.get(page_url(user, "passwords"), headers=cookie(world))
    assert bad_tab.status_code == 422
    actions = ("suspend", "deactivate", "reinstate", "force-logout", "reset-password")
    for action in actions:
        other = await client.post(
            f"/admin/users/{world.b.agent_id}/{action}", headers=cookie(world) | HTMX
        )
        assert other.status_code == 404, action
        cross_site = await client.post(f"/admin/users/{user}/{action}", headers=cookie(world))
        assert cross_site.status_code == 403, action
        by_member = await client.post(
            f"/admin/users/{user}/{action}", headers=cookie(world, "member") | HTMX
        )
        assert by_member.status_code == 403, action
    rows = await client.get(f"/admin/users/{world.b.agent_id}/audit", headers=cookie(world))
    assert rows.status_code == 404
    api = await client.get(f"/v1/admin/users/{user}", headers=world.headers(world.a))
    assert api.json()["status"] == "active"


async def test_tabs_and_actions_hidden_without_their_permission(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """The agent (sales manager) may read people, nothing more here."""
    user = await new_user(session, world, "hidden@alpha.test", role="sales_agent")
    await open_session(session, world, user)
    viewer = cookie(world, "agent")
    profile = await client.get(page_url(user), headers=viewer)
    assert profile.status_code == 200 and 'data-testid="lifecycle"' not in profile.text
    assert 'data-tab="audit"' not in profile.text and 'data-tab="access"' in profile.text
    assert (await client.get(page_url(user, "audit"), headers=viewer)).status_code == 403
    rows = await client.get(f"/admin/users/{user}/audit", headers=viewer | HTMX)
    assert rows.status_code == 403
    security = await client.get(page_url(user, "security"), headers=viewer)
    assert 'data-count="1"' in security.text and 'data-testid="user-sessions"' not in security.text
    assert "/force-logout" not in security.text and "/reset-password" not in security.text
    access = await client.get(page_url(user, "access"), headers=viewer)
    assert access.status_code == 200 and "effective-permissions" not in access.text
    assert "effective-features" not in access.text
    for action in ("suspend", "deactivate", "reinstate", "force-logout", "reset-password"):
        refused = await client.post(f"/admin/users/{user}/{action}", headers=viewer | HTMX)
        assert refused.status_code == 403, action


async def test_no_self_suspension_buttons(client: httpx.AsyncClient, world: World) -> None:
    own = await client.get(page_url(world.a.admin_id), headers=cookie(world))
    assert own.status_code == 200 and 'data-action="suspend"' not in own.text
    refused = await client.post(
        f"/admin/users/{world.a.admin_id}/suspend", headers=cookie(world) | HTMX
    )
    assert refused.status_code == 409
