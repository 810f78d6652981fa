"""Pages of the notifications core: inbox, preferences, outbox, templates, dev mail."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import ACCESS_COOKIE
from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import new_id
from m3crm.kernel.tokens import mint_access_token
from m3crm.modules.notify import web
from m3crm.modules.notify.models import (
    Channel,
    InboxEntry,
    MessageStatus,
    MessageTemplate,
    MessageType,
    NotificationPreference,
    OutboxMessage,
    Severity,
    TemplateStatus,
)
from m3crm.settings import Settings
from tests.conftest import World
from tests.factories import SeededTenant

PAGES = (
    "/notifications",
    "/notifications?unread=1",
    "/notifications/preferences",
    "/monitoring/messages",
    "/monitoring/messages?status=&channel=",
    "/settings/templates",
    "/dev/mail",
)


def cookie(world: World, user: str = "admin", tenant: SeededTenant | None = None) -> dict[str, str]:
    tenant = tenant or world.a
    token = mint_access_token(
        world.settings, tenant_id=tenant.id, user_id=getattr(tenant, f"{user}_id")
    )
    return {"Cookie": f"{ACCESS_COOKIE}={token}", "Accept": "text/html"}


def htmx(world: World, user: str = "admin") -> dict[str, str]:
    return {**cookie(world, user), "HX-Request": "true"}


async def entry(
    session: AsyncSession,
    tenant: SeededTenant,
    user_id: UUID,
    *,
    title: str = "Deal approved",
    link_url: str | None = None,
) -> InboxEntry:
    await bind_tenant(session, tenant.id, user_id)
    row = InboxEntry(
        tenant_id=tenant.id,
        recipient_user_id=user_id,
        title=title,
        body="The deal was approved by finance.",
        severity=Severity.WARNING,
        link_url=link_url,
        meta={},
    )
    session.add(row)
    await session.flush()
    return row


async def message(
    session: AsyncSession, tenant: SeededTenant, *, status: MessageStatus = MessageStatus.FAILED
) -> OutboxMessage:
    await bind_tenant(session, tenant.id, tenant.admin_id)
    row = OutboxMessage(
        tenant_id=tenant.id,
        channel=Channel.EMAIL,
        type=MessageType.TRANSACTIONAL,
        status=status,
        to_address="buyer@example.com",
        family="auth.verify_email",
        locale="en",
        payload={},
        content={"subject": "s", "text": "t", "html": None},
        idempotency_key=f"web-test:{new_id()}",
        attempts=3,
        provider_message_id="prov-123",
        error_code="TEMPORARY_FAILURE",
        failed_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row


async def test_every_page_renders_for_the_admin(client: httpx.AsyncClient, world: World) -> None:
    for path in PAGES:
        r = await client.get(path, headers=cookie(world))
        assert r.status_code == 200, path
        assert '<html lang="en" dir="ltr"' in r.text, path
    bearer = await client.get("/notifications", headers=world.headers(world.a))
    assert bearer.status_code == 200


async def test_anonymous_must_sign_in(client: httpx.AsyncClient) -> None:
    for path in PAGES:
        r = await client.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next="), path


async def test_users_without_the_permission_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in PAGES:
        r = await client.get(path, headers=cookie(world, "member"))
        assert r.status_code == 403, path
    bearer = await client.get("/notifications", headers=world.headers(world.a, "member"))
    assert bearer.status_code == 403
    # The sales manager has an inbox but neither the outbox nor the templates.
    for path in ("/monitoring/messages", "/settings/templates", "/dev/mail"):
        assert (await client.get(path, headers=cookie(world, "agent"))).status_code == 403, path
    assert (await client.get("/notifications", headers=cookie(world, "agent"))).status_code == 200


async def test_inbox_lists_entries_and_marks_one_read(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    row = await entry(session, world.a, world.a.admin_id, link_url="/deals/1")
    evil = await entry(session, world.a, world.a.admin_id, link_url="javascript:alert(1)")
    page = await client.get("/notifications", headers=cookie(world))
    assert page.status_code == 200
    assert f'id="entry-{row.id}"' in page.text and "Deal approved" in page.text
    assert "The deal was approved by finance." in page.text
    assert "Warning" in page.text and "System" in page.text  # severity and category as text
    assert 'href="/deals/1"' in page.text and "javascript:" not in page.text
    assert f'hx-post="/notifications/{row.id}/read"' in page.text

    refused = await client.post(f"/notifications/{row.id}/read", headers=cookie(world))
    assert refused.status_code == 403  # a cookie write without htmx's header (CSRF)

    swapped = await client.post(f"/notifications/{row.id}/read", headers=htmx(world))
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith(f'<li id="entry-{row.id}"')
    assert 'data-read="true"' in swapped.text and "Mark read" not in swapped.text
    await session.refresh(row)
    assert row.is_read and row.read_at is not None

    unread = await client.get("/notifications?unread=1", headers=cookie(world))
    assert f'id="entry-{row.id}"' not in unread.text
    assert f'id="entry-{evil.id}"' in unread.text


async def test_mark_all_read_swaps_the_list(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    rows = [await entry(session, world.a, world.a.admin_id) for _ in range(2)]
    r = await client.post("/notifications/read-all?unread=1", headers=htmx(world))
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="inbox-list"')
    assert 'data-unread="0"' in r.text and "You have no unread notifications." in r.text
    for row in rows:
        await session.refresh(row)
        assert row.is_read


async def test_inbox_is_private_and_paginated(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    older = await entry(session, world.a, world.a.admin_id, title="Older one")
    newer = await entry(session, world.a, world.a.admin_id, title="Newer one")
    theirs = await entry(session, world.a, world.a.agent_id, title="For the agent")
    monkeypatch.setattr(web, "PAGE_SIZE", 1)
    first = await client.get("/notifications", headers=cookie(world))
    assert "Newer one" in first.text and "Older one" not in first.text
    assert "For the agent" not in first.text
    cursor = first.text.split('href="/notifications?cursor=')[1].split('"')[0]
    second = await client.get(f"/notifications?cursor={cursor}", headers=cookie(world))
    assert f'id="entry-{older.id}"' in second.text and f'id="entry-{newer.id}"' not in second.text
    other = await client.post(f"/notifications/{theirs.id}/read", headers=htmx(world))
    assert other.status_code == 404


async def test_inbox_in_arabic_for_the_arabic_user(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await entry(session, world.a, world.a.agent_id)
    page = await client.get("/notifications", headers=cookie(world, "agent"))
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl"' in page.text
    assert "الإشعارات" in page.text and "تحذير" in page.text
    assert "Mark read" not in page.text


async def test_preferences_form_saves(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    page = await client.get("/notifications/preferences", headers=cookie(world))
    assert 'id="pref-email_on_sms"' in page.text and 'for="pref-email_on_sms"' in page.text
    assert 'name="locale"' in page.text and "Saved" not in page.text
    saved = await client.post(
        "/notifications/preferences",
        headers=htmx(world),
        data={"email_on_sms": "1", "marketing_sms_opt_in": "1", "locale": "ar"},
    )
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith('<form id="preferences-form"')
    assert 'role="status"' in saved.text and "Saved" in saved.text
    prefs = (
        await session.execute(
            select(NotificationPreference).where(NotificationPreference.user_id == world.a.admin_id)
        )
    ).scalar_one()
    assert prefs.email_on_sms and prefs.marketing_sms_opt_in and prefs.locale == "ar"
    assert not prefs.email_on_whatsapp and not prefs.inbox_on_all
    bad = await client.post(
        "/notifications/preferences", headers=htmx(world), data={"locale": "fr"}
    )
    assert bad.status_code == 422


async def test_outbox_lists_and_requeues_failed_messages(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    row = await message(session, world.a)
    page = await client.get("/monitoring/messages", headers=cookie(world))
    assert page.status_code == 200
    assert f'id="message-{row.id}"' in page.text
    assert "buyer@example.com" in page.text and "auth.verify_email" in page.text
    assert "prov-123" in page.text and "TEMPORARY_FAILURE" in page.text
    assert "Requeue" in page.text and "<caption" in page.text
    filtered = await client.get(
        "/monitoring/messages?status=delivered&channel=email", headers=cookie(world)
    )
    assert filtered.status_code == 200 and f'id="message-{row.id}"' not in filtered.text
    swapped = await client.post(f"/monitoring/messages/{row.id}/requeue", headers=htmx(world))
    assert swapped.status_code == 200
    assert 'data-status="queued"' in swapped.text and "Requeue" not in swapped.text
    await session.refresh(row)
    assert row.status == MessageStatus.QUEUED and row.attempts == 0
    again = await client.post(f"/monitoring/messages/{row.id}/requeue", headers=htmx(world))
    assert again.status_code == 409


async def test_outbox_requeue_needs_ops_permission(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    row = await message(session, world.a)
    r = await client.post(f"/monitoring/messages/{row.id}/requeue", headers=htmx(world, "agent"))
    assert r.status_code == 403


async def status_of(session: AsyncSession, template: MessageTemplate) -> TemplateStatus:
    await session.refresh(template)
    return template.status


async def test_templates_customise_approve_retire(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    page = await client.get("/settings/templates", headers=cookie(world))
    assert page.status_code == 200
    assert "Product (global)" in page.text and 'scope="rowgroup"' in page.text
    seed = (
        await session.execute(
            select(MessageTemplate)
            .where(MessageTemplate.tenant_id.is_(None), MessageTemplate.channel == Channel.SMS)
            .limit(1)
        )
    ).scalar_one()
    assert f'id="template-{seed.id}"' in page.text

    table = await client.post(f"/settings/templates/{seed.id}/customise", headers=htmx(world))
    assert table.status_code == 200
    assert table.text.lstrip().startswith('<div id="templates-table"')
    assert "A new draft was created." in table.text
    await bind_tenant(session, world.a.id, world.a.admin_id)
    draft = (
        await session.execute(
            select(MessageTemplate).where(
                MessageTemplate.tenant_id == world.a.id,
                MessageTemplate.code == seed.code,
                MessageTemplate.locale == seed.locale,
            )
        )
    ).scalar_one()
    assert await status_of(session, draft) == TemplateStatus.DRAFT
    assert f'hx-post="/settings/templates/{draft.id}/approve"' in table.text

    approved = await client.post(f"/settings/templates/{draft.id}/approve", headers=htmx(world))
    assert approved.status_code == 200 and "The template was approved." in approved.text
    assert await status_of(session, draft) == TemplateStatus.APPROVED

    retired = await client.post(f"/settings/templates/{draft.id}/retire", headers=htmx(world))
    assert retired.status_code == 200 and "The template was retired." in retired.text
    assert await status_of(session, draft) == TemplateStatus.RETIRED

    global_retire = await client.post(f"/settings/templates/{seed.id}/retire", headers=htmx(world))
    assert global_retire.status_code == 409


def write_mail(maildir: Path) -> str:
    mail = EmailMessage()
    mail["From"] = "noreply@m3crm.test"
    mail["To"] = "buyer@example.com"
    mail["Subject"] = "Verify your e-mail"
    mail.set_content("Your code is 123456.")
    mail.add_alternative('<p class="x">Your code is <b>123456</b></p><script>alert(1)</script>',
                         subtype="html")  # fmt: skip
    stem = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{new_id().hex}"
    envelope = b"X-Envelope-From: noreply@m3crm.test\r\nX-Envelope-To: buyer@example.com\r\n"
    maildir.mkdir(parents=True, exist_ok=True)
    (maildir / f"{stem}.eml").write_bytes(envelope + mail.as_bytes())
    return stem


@pytest.fixture
def caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One caught mail in a temporary maildir the pages read."""
    folder = tmp_path / "mail"
    monkeypatch.setattr(web, "maildir", lambda settings: folder)
    return write_mail(folder)


async def test_dev_mail_lists_and_shows_caught_mail(
    client: httpx.AsyncClient, world: World, caught: str
) -> None:
    listing = await client.get("/dev/mail", headers=cookie(world))
    assert listing.status_code == 200
    assert f'href="/dev/mail/{caught}"' in listing.text
    assert "Verify your e-mail" in listing.text and "buyer@example.com" in listing.text

    detail = await client.get(f"/dev/mail/{caught}", headers=cookie(world))
    assert detail.status_code == 200
    assert "<pre" in detail.text and "Your code is 123456." in detail.text
    iframe = detail.text.split("<iframe")[1].split(">")[0]
    assert 'sandbox=""' in iframe and "allow-scripts" not in iframe
    srcdoc = iframe.split('srcdoc="')[1].split('"')[0]
    assert "<" not in srcdoc and "&lt;script&gt;" in srcdoc
    assert "<b>123456</b>" in html.unescape(srcdoc)

    for unknown in ("20260101T000000000000Z-" + "0" * 32, "..%2Fsecret"):
        r = await client.get(f"/dev/mail/{unknown}", headers=cookie(world))
        assert r.status_code == 404, unknown


async def test_dev_mail_does_not_exist_in_production(
    client: httpx.AsyncClient, app: FastAPI, world: World, caught: str
) -> None:
    settings: Settings = app.state.settings
    # Not monkeypatch.setattr: undoing it on Starlette's `State` deletes the attribute.
    app.state.settings = settings.model_copy(update={"environment": "production"})
    try:
        for path in ("/dev/mail", f"/dev/mail/{caught}"):
            assert (await client.get(path, headers=cookie(world))).status_code == 404, path
            anonymous = await client.get(path, headers={"Accept": "text/html"})
            assert anonymous.status_code == 404, path
    finally:
        app.state.settings = settings
