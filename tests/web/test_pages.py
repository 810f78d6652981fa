"""Pages: lang/dir, language switch, translated error pages, the Monitoring screen."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.runs.models import RunStatus
from m3crm.kernel.tokens import mint_access_token
from tests.conftest import World
from tests.modules.runs.test_api import dispatch, failed_run


async def test_home_in_english_and_arabic(client: httpx.AsyncClient) -> None:
    en = await client.get("/?lang=en")
    assert en.status_code == 200
    assert '<html lang="en" dir="ltr"' in en.text
    assert "The CRM for real-estate developers and brokerages" in en.text
    ar = await client.get("/?lang=ar")
    assert '<html lang="ar" dir="rtl"' in ar.text
    assert "نظام إدارة العملاء للمطوّرين العقاريين" in ar.text


async def test_assets_are_hashed_and_cached(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    css = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert css.startswith("/static/dist/app.") and css.endswith(".css")
    r = await client.get(css)
    assert r.status_code == 200
    assert "immutable" in r.headers["cache-control"]


async def test_language_switch_sets_cookie_and_stays_local(client: httpx.AsyncClient) -> None:
    r = await client.get("/lang/ar?next=/monitoring/runs")
    assert r.status_code == 303 and r.headers["location"] == "/monitoring/runs"
    assert "m3crm_locale=ar" in r.headers["set-cookie"]
    for evil in ("//evil.example", "/\\evil.example", "https://evil.example"):
        r = await client.get("/lang/ar", params={"next": evil})
        assert r.headers["location"] == "/", evil


async def test_error_pages_are_translated_html(client: httpx.AsyncClient) -> None:
    r = await client.get("/nowhere?lang=ar", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert 'dir="rtl"' in r.text and "الصفحة غير موجودة" in r.text
    partial = await client.get("/nowhere", headers={"Accept": "text/html", "HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div role="alert"')


def cookie(world: World, user: str = "admin", tenant: str = "a") -> dict[str, str]:
    seeded = getattr(world, tenant)
    user_id = getattr(seeded, f"{user}_id")
    token = mint_access_token(world.settings, tenant_id=seeded.id, user_id=user_id)
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}


async def test_monitoring_lists_runs_and_requeues_failed(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await failed_run(session, app, world.a)
    page = await client.get("/monitoring/runs", headers=cookie(world))
    assert page.status_code == 200
    assert f'id="run-{run.id}"' in page.text and "Run again" in page.text
    row = await client.post(
        f"/monitoring/runs/{run.id}/requeue", headers={**cookie(world), "HX-Request": "true"}
    )
    assert row.status_code == 200
    assert 'data-status="queued"' in row.text


async def test_monitoring_in_the_users_language(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/monitoring/runs", headers=cookie(world, "agent"))
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text and "الأعمال في الخلفية" in page.text


async def test_monitoring_negative_paths(client: httpx.AsyncClient, world: World) -> None:
    anonymous = await client.get("/monitoring/runs", headers={"Accept": "text/html"})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fmonitoring%2Fruns"
    htmx = await client.get("/monitoring/runs", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/login?next=%2Fmonitoring%2Fruns"
    member = await client.get("/monitoring/runs", headers=cookie(world, "member"))
    assert member.status_code == 403
    agent_requeue = await client.post(
        "/monitoring/runs/01900000-0000-7000-8000-000000000000/requeue",
        headers={**cookie(world, "agent"), "HX-Request": "true"},
    )
    assert agent_requeue.status_code == 403


async def test_cookie_writes_without_htmx_header_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    """CSRF: a cross-site form post carries the cookie but cannot add `HX-Request`."""
    run = await failed_run(session, app, world.a)
    r = await client.post(f"/monitoring/runs/{run.id}/requeue", headers=cookie(world))
    assert r.status_code == 403
    await session.refresh(run)
    assert run.status == RunStatus.FAILED


async def test_monitoring_requeue_of_other_tenant_run_is_404(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await failed_run(session, app, world.a)
    token = mint_access_token(world.settings, tenant_id=world.b.id, user_id=world.b.admin_id)
    r = await client.post(
        f"/monitoring/runs/{run.id}/requeue",
        headers={"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html", "HX-Request": "true"},
    )
    assert r.status_code == 404
    from m3crm.kernel.db.session import bind_tenant

    await bind_tenant(session, world.a.id, None)  # the request left tenant B bound
    await session.refresh(run)
    assert run.status == RunStatus.FAILED


async def test_monitoring_requeue_of_queued_run_is_409_page(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await dispatch(session, app, world.a)
    r = await client.post(
        f"/monitoring/runs/{run.id}/requeue", headers={**cookie(world), "HX-Request": "true"}
    )
    assert r.status_code == 409
    assert "This cannot be done right now" in r.text


async def test_monitoring_filters_and_run_detail(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, world: World
) -> None:
    run = await failed_run(session, app, world.a)
    admin = cookie(world)
    by_type = await client.get(f"/monitoring/runs?type={run.type}&status=failed", headers=admin)
    assert by_type.status_code == 200 and f'id="run-{run.id}"' in by_type.text
    other_type = await client.get("/monitoring/runs?type=nothing.such", headers=admin)
    assert f'id="run-{run.id}"' not in other_type.text
    mine = await client.get("/monitoring/runs?initiator=me", headers=cookie(world, "agent"))
    assert mine.status_code == 200 and f'id="run-{run.id}"' not in mine.text
    blank = await client.get("/monitoring/runs?status=&type=&initiator=", headers=admin)
    assert blank.status_code == 200 and f'id="run-{run.id}"' in blank.text
    bad = await client.get("/monitoring/runs?initiator=someone", headers=admin)
    assert bad.status_code == 422

    detail = await client.get(f"/monitoring/runs/{run.id}", headers=admin)
    assert detail.status_code == 200
    assert 'data-status="failed"' in detail.text and "Run again" in detail.text
    requeued = await client.post(
        f"/monitoring/runs/{run.id}/requeue?view=detail", headers=admin | {"HX-Request": "true"}
    )
    assert 'id="run-detail"' in requeued.text and 'hx-trigger="every 3s"' in requeued.text
    token = mint_access_token(world.settings, tenant_id=world.b.id, user_id=world.b.admin_id)
    other = await client.get(
        f"/monitoring/runs/{run.id}",
        headers={"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"},
    )
    assert other.status_code == 404
