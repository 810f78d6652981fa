"""`GET /v1/search`: folding, literal matching, permissions, tenants, bad input."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from m3crm.kernel.tenancy.models import UserStatus
from m3crm.modules.search.api import response_locale
from tests.conftest import World, error_code
from tests.factories import bearer
from tests.modules.search.helpers import person

URL = "/v1/search"


async def search(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    r = await client.get(URL, params=params, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def user_ids(body: dict[str, Any]) -> list[str]:
    groups = {g["type"]: g for g in body["groups"]}
    return [item["id"] for item in groups["users"]["items"]] if "users" in groups else []


async def test_arabic_names_are_found_by_their_bare_spelling(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    voweled = await person(session, world.a.id, "أَحْمَد إبراهيم", "a.ibrahim@alpha.test")
    other = await person(session, world.a.id, "محمود سالم", "m.salem@alpha.test")
    body = await search(client, world.headers(world.a), q="احمد")
    assert body["query"] == "احمد"
    [group] = body["groups"]
    assert group["type"] == "users"
    assert group["label"] == "Users"
    assert [item["id"] for item in group["items"]] == [str(voweled)]
    item = group["items"][0]
    assert item["title"] == "أَحْمَد إبراهيم"
    assert item["subtitle"] == "a.ibrahim@alpha.test"
    assert item["path"] == f"/admin/users/{item['id']}"
    # Inside the name, hamza and alef variants typed either way.
    assert user_ids(await search(client, world.headers(world.a), q="ابراهيم")) == [str(voweled)]
    assert user_ids(await search(client, world.headers(world.a), q="  محمود  ")) == [str(other)]


async def test_e_mail_fragments_and_case(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    found = await person(session, world.a.id, "Noura Fahmy", "Noura.F@Zed-Example.test")
    for q in ("zed-exam", "NOURA.f@", "fahmy noura.f"):
        assert user_ids(await search(client, world.headers(world.a), q=q)) == [str(found)], q


async def test_wildcards_in_the_query_match_literally(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    percent = await person(session, world.a.id, "Sales 50% Team", "fifty@alpha.test")
    await person(session, world.a.id, "Sales 500 Team", "five-hundred@alpha.test")
    underscore = await person(session, world.a.id, "Ops a_b", "ab@alpha.test")
    await person(session, world.a.id, "Ops axb", "axb@alpha.test")
    backslash = await person(session, world.a.id, "Back\\slash", "bs@alpha.test")
    headers = world.headers(world.a)
    assert user_ids(await search(client, headers, q="50%")) == [str(percent)]
    assert user_ids(await search(client, headers, q="sales 50%")) == [str(percent)]
    assert user_ids(await search(client, headers, q="a_b")) == [str(underscore)]
    assert user_ids(await search(client, headers, q="k\\s")) == [str(backslash)]
    assert (await search(client, headers, q="%%%"))["groups"] == []


async def test_starts_with_comes_first_and_short_queries_match_starts_only(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    inside = await person(session, world.a.id, "Ahmed Qasim", "ahmed.q@alpha.test")
    start = await person(session, world.a.id, "Qasim Nour", "qasim.n@alpha.test")
    headers = world.headers(world.a)
    assert user_ids(await search(client, headers, q="qasim")) == [str(start), str(inside)]
    assert user_ids(await search(client, headers, q="qasim", limit=1)) == [str(start)]
    assert user_ids(await search(client, headers, q="qa")) == [str(start)]


async def test_every_status_is_found_and_shown(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await person(
        session, world.a.id, "Hala Suspended", "hala@alpha.test", status=UserStatus.SUSPENDED
    )
    body = await search(client, world.headers(world.a), q="hala")
    assert [i["subtitle"] for i in body["groups"][0]["items"]] == ["hala@alpha.test · Suspended"]


async def test_other_tenants_users_never_appear(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await person(session, world.b.id, "Bravo Only", "only@bravo.test")
    assert (await search(client, world.headers(world.a), q="bravo"))["groups"] == []
    ids = user_ids(await search(client, world.headers(world.a), q="admin@"))
    assert ids == [str(world.a.admin_id)]
    ids = user_ids(await search(client, world.headers(world.b), q="admin@"))
    assert ids == [str(world.b.admin_id)]


async def test_anonymous_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"q": "admin"})
    assert r.status_code == 401
    assert error_code(r) == "AUTH_INVALID_CREDENTIALS"


async def test_without_the_permission_there_is_no_users_group(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    viewer = await person(session, world.a.id, "Vera Viewer", "vera@alpha.test", role="viewer")
    for user_id in (viewer, world.a.member_id):
        body = await search(client, bearer(world.settings, world.a.id, user_id), q="admin")
        assert body == {"query": "admin", "groups": []}


async def test_an_unverified_e_mail_hides_permission_gated_groups(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    unverified = await person(
        session, world.a.id, "Ursula New", "ursula@alpha.test", role="admin", is_verified=False
    )
    body = await search(client, bearer(world.settings, world.a.id, unverified), q="admin")
    assert body["groups"] == []


async def test_type_filter_limit_and_empty_queries(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = world.headers(world.a)
    for n in range(3):
        await person(session, world.a.id, f"Karim {n}", f"karim{n}@alpha.test")
    assert len(user_ids(await search(client, headers, q="karim", type="users", limit=2))) == 2
    assert len(user_ids(await search(client, headers, q="karim"))) == 3
    for q in ("", "   ", "\u0640\u064e"):  # nothing left after folding (tatweel, a haraka)
        assert (await search(client, headers, q=q))["groups"] == []


async def test_bad_input_is_422_with_field_errors(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers(world.a)
    cases = [
        ({"q": "x" * 101}, "q"),
        ({"q": "ab\x00cd"}, "query"),  # the middleware refuses NUL in any query string
        ({"q": "ab\ncd"}, "q"),
        ({"q": "a", "limit": 0}, "limit"),
        ({"q": "a", "limit": 21}, "limit"),
        ({"q": "a", "limit": "many"}, "limit"),
        ({"q": "a", "type": ["users", "spaceships"]}, "type"),
    ]
    for params, field in cases:
        r = await client.get(URL, params=params, headers=headers)
        assert r.status_code == 422, (params, r.text)
        assert error_code(r) == "VALIDATION_ERROR"
        assert field in r.json()["error"]["details"]["fields"], (params, r.text)


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "query_string": b"", "headers": raw})


async def test_labels_follow_the_request_language_else_the_users(
    session: AsyncSession, world: World
) -> None:
    from m3crm.kernel.auth import load_subject

    agent = await load_subject(session, world.a.id, world.a.agent_id)  # locale "ar"
    assert agent is not None
    assert response_locale(_request({}), agent) == "ar"
    assert response_locale(_request({"Accept-Language": "en-GB"}), agent) == "en"
