"""The sign-in pages, over committed data (sign-in runs in its own transactions)."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx

from m3crm.kernel.db.session import Database
from tests.modules.identity.test_auth import PASSWORD, api, mail_link, sign_up  # noqa: F401

HX = {"HX-Request": "true"}


async def test_sign_in_page_and_form(api: httpx.AsyncClient) -> None:  # noqa: F811
    page = await api.get("/login?next=/notifications")
    assert page.status_code == 200
    assert 'name="password"' in page.text and 'value="/notifications"' in page.text
    email = f"page-{uuid4().hex[:8]}@example.com"
    await sign_up(api, email=email)
    api.cookies.clear()
    form = {"email": email, "password": PASSWORD, "next": "/notifications"}
    no_htmx = await api.post("/login", data=form)
    assert no_htmx.status_code == 403  # CSRF: a cross-site form cannot add HX-Request
    wrong = await api.post("/login", data={**form, "password": "nope-nope-1"}, headers=HX)
    assert wrong.status_code == 200 and 'role="alert"' in wrong.text
    ok = await api.post("/login", data=form, headers=HX)
    assert ok.status_code == 204
    assert ok.headers["HX-Redirect"] == "/notifications"
    assert "m3crm_access" in ok.cookies and "m3crm_refresh" in ok.cookies
    evil = await api.post("/login", data={**form, "next": "//evil.example"}, headers=HX)
    assert evil.headers["HX-Redirect"] == "/"


async def test_sign_up_page_validates_and_signs_in(api: httpx.AsyncClient) -> None:  # noqa: F811
    page = await api.get("/signup")
    assert page.status_code == 200 and 'name="workspace_slug"' in page.text
    bad = await api.post(
        "/signup",
        data={"workspace_name": "X", "workspace_slug": "No!", "full_name": "", "email": "a@b.c",
              "password": "short"},
        headers=HX,
    )  # fmt: skip
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.text
    good = await api.post(
        "/signup",
        data={"workspace_name": "Palm Realty", "workspace_slug": f"palm-{uuid4().hex[:8]}",
              "full_name": "Hana", "email": f"hana-{uuid4().hex[:6]}@example.com",
              "password": PASSWORD},
        headers=HX,
    )  # fmt: skip
    assert good.status_code == 204 and good.headers["HX-Redirect"] == "/?welcome=signup"


async def test_verify_and_reset_pages(api: httpx.AsyncClient, database: Database) -> None:  # noqa: F811
    email = f"verify-{uuid4().hex[:8]}@example.com"
    tenant = UUID((await sign_up(api, email=email)).json()["tenant_id"])
    token = await mail_link(database, tenant, "auth.verify_email", "verify_url")
    page = await api.get(f"/verify-email?token={token}")
    assert page.status_code == 200 and token in page.text  # a button, nothing consumed yet
    done = await api.post("/verify-email", data={"token": token}, headers=HX)
    assert done.status_code == 200 and 'role="status"' in done.text
    again = await api.post("/verify-email", data={"token": token}, headers=HX)
    assert 'role="alert"' in again.text

    sent = await api.post("/forgot-password", data={"email": email}, headers=HX)
    assert sent.status_code == 200 and 'role="status"' in sent.text
    reset_token = await mail_link(database, tenant, "auth.password_reset", "reset_url")
    assert (await api.get(f"/reset-password?token={reset_token}")).status_code == 200
    weak = await api.post(
        "/reset-password", data={"token": reset_token, "password": "abc"}, headers=HX
    )
    assert 'aria-invalid="true"' in weak.text
    saved = await api.post(
        "/reset-password", data={"token": reset_token, "password": "maple-stone-551"}, headers=HX
    )
    assert 'role="status"' in saved.text


async def test_sessions_page_and_sign_out(api: httpx.AsyncClient) -> None:  # noqa: F811
    email = f"dev-{uuid4().hex[:8]}@example.com"
    await sign_up(api, email=email)
    page = await api.get("/account/sessions")
    assert page.status_code == 200 and "This device" in page.text
    out = await api.post("/logout", headers=HX)
    assert out.status_code == 204 and out.headers["HX-Redirect"] == "/login"
    api.cookies.clear()
    after = await api.get("/account/sessions", headers={"Accept": "text/html"})
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


async def test_arabic_sign_in_page_is_right_to_left(api: httpx.AsyncClient) -> None:  # noqa: F811
    page = await api.get("/login", headers={"Accept-Language": "ar"})
    assert 'dir="rtl"' in page.text and 'lang="ar"' in page.text


async def test_lapsed_access_cookie_resumes_from_the_refresh_cookie(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    email = f"resume-{uuid4().hex[:8]}@example.com"
    signed_up = await sign_up(api, email=email)
    refresh = signed_up.cookies["m3crm_refresh"]
    api.cookies.clear()
    page = await api.get("/login?next=/notifications")
    assert "/v1/auth/session/resume?next=/notifications" in page.text
    nothing = await api.post("/v1/auth/session/resume", headers=HX)
    assert nothing.status_code == 204 and "HX-Redirect" not in nothing.headers
    resumed = await api.post(
        "/v1/auth/session/resume?next=/notifications",
        headers=HX,
        cookies={"m3crm_refresh": refresh},
    )
    assert resumed.status_code == 204
    assert resumed.headers["HX-Redirect"] == "/notifications"
    assert "m3crm_access" in resumed.cookies
    no_csrf = await api.post("/v1/auth/session/resume", cookies={"m3crm_refresh": refresh})
    assert no_csrf.status_code == 403


async def test_sign_in_pages_speak_arabic(api: httpx.AsyncClient) -> None:  # noqa: F811
    pages = {
        "/login": ("تسجيل الدخول", "Sign in"),
        "/signup": ("أنشئ مساحة عملك", "Create your workspace"),
        "/forgot-password": ("أعد تعيين كلمة المرور", "Reset your password"),
        "/reset-password?token=x": ("احفظ كلمة المرور", "Save the password"),
        "/accept-invite?token=x": ("انضم إلى فريقك", "Join your team"),
    }
    for path, (arabic, english) in pages.items():
        page = await api.get(path, headers={"Accept-Language": "ar"})
        assert arabic in page.text, path
        assert f">{english}<" not in page.text, path
