"""The page shell without a database: `TestClient(create_app())` never runs the lifespan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from m3crm.app import create_app
from m3crm.web import assets
from m3crm.web.templating import render


@pytest.fixture(scope="module")
def shell() -> TestClient:
    return TestClient(create_app())


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, "the page has no <h1>"
    return found.group(1).strip()


def test_home_is_english_left_to_right(shell: TestClient) -> None:
    r = shell.get("/?lang=en")
    assert r.status_code == 200
    assert '<html lang="en" dir="ltr"' in r.text
    assert heading(r.text) == "The CRM for real-estate developers and brokerages"
    assert 'href="/lang/ar?next=%2F"' in r.text


def test_home_is_arabic_right_to_left(shell: TestClient) -> None:
    r = shell.get("/?lang=ar")
    assert '<html lang="ar" dir="rtl"' in r.text
    assert heading(r.text) == "نظام إدارة العملاء للمطوّرين العقاريين وشركات الوساطة"
    assert "مسار المبيعات" in r.text and "The CRM for" not in r.text
    assert 'href="/lang/en?next=%2F"' in r.text


def test_cookie_and_accept_language_choose_the_language(shell: TestClient) -> None:
    by_header = shell.get("/", headers={"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"})
    assert 'dir="rtl"' in by_header.text
    by_cookie = shell.get("/", headers={"Accept-Language": "ar", "Cookie": "m3crm_locale=en"})
    assert 'dir="ltr"' in by_cookie.text


def test_switch_link_keeps_the_query_but_not_lang(shell: TestClient) -> None:
    r = shell.get("/?lang=ar&status=failed")
    assert 'href="/lang/en?next=%2F%3Fstatus%3Dfailed"' in r.text


def test_switch_sets_the_cookie_the_next_page_uses(shell: TestClient) -> None:
    client = TestClient(create_app())
    r = client.get("/lang/ar?next=/", follow_redirects=True)
    assert 'dir="rtl"' in r.text
    assert client.cookies.get("m3crm_locale") == "ar"
    ignored = client.get("/lang/xx?next=/", follow_redirects=True)
    assert 'dir="rtl"' in ignored.text  # an unknown language leaves the choice alone


def test_request_state_locale_overrides_negotiation() -> None:
    app = FastAPI()

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        request.state.locale = "ar"
        return render(request, "home.html")

    r = TestClient(app).get("/page?lang=en", headers={"Accept-Language": "en"})
    assert 'dir="rtl"' in r.text


def test_error_page_and_htmx_partial(shell: TestClient) -> None:
    page = shell.get("/nowhere?lang=ar", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert 'dir="rtl"' in page.text and "الصفحة غير موجودة" in page.text
    assert "العودة إلى الصفحة الرئيسية" in page.text and "<h1" in page.text
    assert "Traceback" not in page.text and "HX-Retarget" not in page.headers
    assert "Not Found" not in page.text  # Starlette's English reason phrase is dropped
    partial = shell.get("/nowhere", headers={"Accept": "text/html", "HX-Request": "true"})
    assert partial.status_code == 404
    assert partial.text.lstrip().startswith('<div role="alert"')
    assert "<html" not in partial.text and "<h1" not in partial.text and "<h2" in partial.text
    assert partial.headers["HX-Retarget"] == "#page-alerts"
    assert partial.headers["HX-Reswap"] == "innerHTML"


def test_htmx_partial_speaks_the_language_of_its_page(shell: TestClient) -> None:
    headers = {"Accept": "text/html", "HX-Request": "true", "Cookie": "m3crm_locale=en"}
    from_arabic_page = {**headers, "HX-Current-URL": "http://testserver/?x=1&lang=ar"}
    assert "الصفحة غير موجودة" in shell.get("/nowhere", headers=from_arabic_page).text
    from_plain_page = {**headers, "HX-Current-URL": "http://testserver/"}
    assert "Page not found" in shell.get("/nowhere", headers=from_plain_page).text
    not_htmx = {"Accept": "text/html", "HX-Current-URL": "http://testserver/?lang=ar"}
    assert 'dir="ltr"' in shell.get("/nowhere", headers=not_htmx).text


def test_static_dist_is_immutable_and_other_static_is_not(shell: TestClient) -> None:
    css = assets.asset_url("app.css")
    assert re.fullmatch(r"/static/dist/app\.[0-9a-f]{12}\.css", css)
    r = shell.get(css)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    manifest = shell.get("/static/dist/manifest.json")
    assert manifest.status_code == 200  # plain file: served, but it is not content-addressed
    assert shell.get("/static/dist/missing.css").status_code == 404


def test_every_manifest_entry_exists() -> None:
    for name in ("app.css", "htmx.js", "alpine.js"):
        file = assets.asset_url(name).removeprefix("/static/dist/")
        assert (assets.DIST / file).is_file(), name


@pytest.fixture
def unbuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setattr(assets, "DIST", tmp_path)
    assets._manifest.cache_clear()
    yield
    assets._manifest.cache_clear()


@pytest.mark.usefixtures("unbuilt")
def test_unbuilt_assets_say_how_to_build_them() -> None:
    with pytest.raises(assets.AssetsNotBuilt, match="make assets"):
        assets.asset_url("app.css")
