"""`GET /search/results`: the partial the shell's search box swaps in."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World
from tests.modules.search.helpers import person

URL = "/search/results"


def cookie(world: World, user: str = "admin") -> dict[str, str]:
    token = mint_access_token(
        world.settings, tenant_id=world.a.id, user_id=getattr(world.a, f"{user}_id")
    )
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html", "HX-Request": "true"}


async def test_hits_follow_the_listbox_contract(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    found = await person(session, world.a.id, "Salma Farouk", "salma@alpha.test")
    r = await client.get(URL, params={"q": "salma"}, headers=cookie(world))
    assert r.status_code == 200
    html = r.text
    assert re.search(r'<div id="search-results" role="listbox"[^>]*data-count="1"', html)
    assert '<ul role="group" aria-labelledby="search-group-users"' in html
    assert re.search(r'<li role="presentation" id="search-group-users"[^>]*>Users</li>', html)
    path = f"/admin/users/{found}"
    option = re.search(r'<li (role="option"[^>]*)>(.*?)</li>', html, re.S)
    assert option is not None
    li, inner = option.groups()
    assert f'id="search-hit-users-{found}"' in li
    assert f'data-href="{path}"' in li
    assert 'aria-selected="false"' in li
    assert "<a " not in inner  # no link inside an option: the script opens data-href
    assert re.findall(r"<span[^>]*>([^<]*)</span>", inner) == [
        "Salma Farouk",
        "salma@alpha.test",
    ]
    assert "data-empty" not in html


async def test_no_hit_says_so_with_the_query_escaped(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(URL, params={"q": "<b>zzz</b>"}, headers=cookie(world))
    assert r.status_code == 200
    assert 'data-count="0"' in r.text
    assert "<p data-empty" in r.text
    assert "No results for “&lt;b&gt;zzz&lt;/b&gt;”" in r.text
    assert "<b>" not in r.text


async def test_an_empty_query_shows_a_hint(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(URL, params={"q": "  "}, headers=cookie(world))
    assert r.status_code == 200
    assert 'data-count="0"' in r.text
    assert "data-empty" not in r.text
    assert "Type a name or an e-mail to search." in r.text


async def test_a_user_without_permissions_sees_no_results(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get(URL, params={"q": "admin"}, headers=cookie(world, "member"))
    assert r.status_code == 200
    assert "<p data-empty" in r.text


async def test_arabic_page_is_translated_markup_too(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await person(session, world.a.id, "سلمى فاروق", "salma.ar@alpha.test")
    r = await client.get(
        URL, params={"q": "سلمي"}, headers=cookie(world, "agent")
    )  # ya for alef maqsura
    assert r.status_code == 200
    assert 'data-count="1"' in r.text


async def test_signed_out_and_bad_input(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(URL, params={"q": "a"}, headers={"Accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    r = await client.get(URL, params={"q": "a"}, headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["hx-redirect"].startswith("/login?next=")
    r = await client.get(URL, params={"q": "x" * 101}, headers=cookie(world))
    assert r.status_code == 422
    r = await client.get(URL, params={"q": "a\x00"}, headers=cookie(world))
    assert r.status_code == 422
