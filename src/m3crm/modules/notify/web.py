"""Pages of the notifications core: the inbox, preferences, the outbox (Monitoring),
templates (Settings) and the development mail catcher; the same services as the API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BeforeValidator

from m3crm.kernel.auth import AuthSubject, DbSession
from m3crm.kernel.errors import NotFound, ValidationFailed
from m3crm.kernel.i18n import N_, SUPPORTED_LOCALES, locale_name
from m3crm.kernel.pagination import CURSOR_PATTERN, PageRequest
from m3crm.modules.notify import inbox, mailcatcher, outbox, preferences, templates, web_policies
from m3crm.modules.notify.auth import (
    InboxReader,
    OutboxOperator,
    OutboxReader,
    PreferenceEditor,
    TemplateApprover,
    TemplateManager,
)
from m3crm.modules.notify.models import (
    Channel,
    InboxCategory,
    MessageStatus,
    OutboxMessage,
    Severity,
    TemplateStatus,
)
from m3crm.settings import Settings
from m3crm.web.filters import BlankIsNone
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

SEVERITY_LABELS = {
    Severity.INFO: N_("Information"),
    Severity.SUCCESS: N_("Success"),
    Severity.WARNING: N_("Warning"),
    Severity.ERROR: N_("Error"),
}
CATEGORY_LABELS = {
    InboxCategory.APPROVALS: N_("Approvals"),
    InboxCategory.TASKS: N_("Tasks"),
    InboxCategory.SYSTEM: N_("System"),
    InboxCategory.MARKETING: N_("Marketing"),
}
MESSAGE_STATUS_LABELS = {
    MessageStatus.QUEUED: N_("queued"),
    MessageStatus.SENT: N_("sent"),
    MessageStatus.DELIVERED: N_("delivered"),
    MessageStatus.FAILED: N_("failed"),
    MessageStatus.BOUNCED: N_("bounced"),
    MessageStatus.EXPIRED: N_("expired"),
}
CHANNEL_LABELS = {
    Channel.EMAIL: N_("E-mail"),
    Channel.SMS: N_("SMS"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.INBOX: N_("In-app"),
    Channel.PUSH: N_("Push"),
}
TEMPLATE_STATUS_LABELS = {
    TemplateStatus.DRAFT: N_("draft"),
    TemplateStatus.APPROVED: N_("approved"),
    TemplateStatus.RETIRED: N_("retired"),
}
PREFERENCE_LABELS = {
    "email_on_sms": N_("Also send me an e-mail when I get an SMS"),
    "email_on_whatsapp": N_("Also send me an e-mail when I get a WhatsApp message"),
    "inbox_on_all": N_("Keep a copy of every message in my in-app notifications"),
    "marketing_email_opt_in": N_("Marketing by e-mail"),
    "marketing_sms_opt_in": N_("Marketing by SMS"),
    "marketing_whatsapp_opt_in": N_("Marketing by WhatsApp"),
}
BOOLEAN_PREFERENCES = tuple(name for name in preferences.EDITABLE if name != "locale")
# Failures a requeue cannot fix (the service refuses them): no button for these.
_NOT_REQUEUEABLE = frozenset({"TEMPLATE_MISSING", "TEMPLATE_VARIABLES_MISSING"})


def _blank_to_all(value: object) -> object:
    return value or "all"


StatusFilter = Annotated[MessageStatus | None, BlankIsNone]
ChannelFilter = Annotated[Channel | None, BlankIsNone]
Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN)]


def safe_link(url: str | None) -> str | None:
    """An entry's link only when it is a local path or an http(s) address (never
    `javascript:` or a protocol-relative `//host`)."""
    if not url:
        return None
    if url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    if url.lower().startswith(("https://", "http://")):
        return url
    return None


def maildir(settings: Settings) -> Path:
    """Where the development mail catcher keeps what it caught."""
    return settings.data_dir / "mail"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def development_only(request: Request) -> None:
    """The mail catcher's pages do not exist in production (checked before sign-in)."""
    if _settings(request).environment == "production":
        raise NotFound()


# --- Inbox -----------------------------------------------------------------------------


def _entry_context() -> dict[str, Any]:
    return {
        "severity_labels": SEVERITY_LABELS,
        "category_labels": CATEGORY_LABELS,
        "safe_link": safe_link,
    }


async def _inbox_context(
    session: DbSession, subject: AuthSubject, *, unread: bool, cursor: str | None
) -> dict[str, Any]:
    page = await inbox.list_entries(
        session,
        subject.user_id,
        PageRequest(limit=PAGE_SIZE, cursor=cursor),
        is_read=False if unread else None,
    )
    return {
        **_entry_context(),
        "page": page,
        "unread": unread,
        "unread_count": await inbox.unread_count(session, subject.user_id),
    }


@router.get("/notifications", response_class=HTMLResponse)
async def inbox_page(
    request: Request,
    session: DbSession,
    subject: InboxReader,
    unread: bool = False,
    cursor: Cursor = None,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    context = await _inbox_context(session, subject, unread=unread, cursor=cursor)
    return render(request, "notify/index.html", context)


@router.get("/notifications/badge", response_class=HTMLResponse)
async def unread_badge(request: Request, session: DbSession, subject: InboxReader) -> HTMLResponse:
    """HTMX (polled by the header): the unread count, without reloading the page."""
    request.state.locale = subject.user.locale
    count = await inbox.unread_count(session, subject.user_id)
    return render(request, "notify/_badge.html", {"count": count})


@router.post("/notifications/read-all", response_class=HTMLResponse)
async def mark_all_read(
    request: Request, session: DbSession, subject: InboxReader, unread: bool = False
) -> HTMLResponse:
    """HTMX: mark every unread entry read and swap the list (first page, same filter)."""
    request.state.locale = subject.user.locale
    await inbox.mark_all_read(session, subject.user_id, None)
    context = await _inbox_context(session, subject, unread=unread, cursor=None)
    return render(request, "notify/_list.html", context)


@router.post("/notifications/{entry_id}/read", response_class=HTMLResponse)
async def mark_read(
    request: Request, entry_id: UUID, session: DbSession, subject: InboxReader
) -> HTMLResponse:
    """HTMX: mark one entry read and swap its row."""
    request.state.locale = subject.user.locale
    entry = await inbox.mark_read(session, subject.user_id, entry_id)
    return render(request, "notify/_entry.html", {**_entry_context(), "entry": entry})


# --- Drawer (notification center) and detail -----------------------------------------------

DRAWER_TABS: tuple[tuple[str, str], ...] = (
    ("all", N_("All")),
    *((category.value, CATEGORY_LABELS[category]) for category in InboxCategory),
)
DRAWER_SIZE = 20
TabFilter = Annotated[
    Literal["all", "approvals", "tasks", "system", "marketing"], BeforeValidator(_blank_to_all)
]


def _tab_category(tab: str) -> InboxCategory | None:
    return None if tab == "all" else InboxCategory(tab)


async def _drawer(
    request: Request, session: DbSession, subject: AuthSubject, tab: str
) -> HTMLResponse:
    page = await inbox.list_entries(
        session, subject.user_id, PageRequest(limit=DRAWER_SIZE), category=_tab_category(tab)
    )
    context = {
        **_entry_context(),
        "tabs": DRAWER_TABS,
        "tab": tab,
        "entries": page.items,
        "more": page.next_cursor is not None,
        "unread_count": await inbox.unread_count(session, subject.user_id),
    }
    return render(request, "notify/_drawer.html", context)


@router.get("/notifications/drawer", response_class=HTMLResponse)
async def drawer(
    request: Request, session: DbSession, subject: InboxReader, tab: TabFilter = "all"
) -> HTMLResponse:
    """HTMX: the right drawer's panel, one tab at a time (newest 20)."""
    return await _drawer(request, session, subject, tab)


@router.get("/notifications/latest", response_class=HTMLResponse)
async def latest(request: Request, session: DbSession, subject: InboxReader) -> HTMLResponse:
    """HTMX: the five newest entries, for the home page."""
    page = await inbox.list_entries(session, subject.user_id, PageRequest(limit=5))
    return render(request, "notify/_latest.html", {**_entry_context(), "entries": page.items})


@router.post("/notifications/drawer/read-all", response_class=HTMLResponse)
async def drawer_read_all(
    request: Request, session: DbSession, subject: InboxReader, tab: TabFilter = "all"
) -> HTMLResponse:
    """HTMX: mark the tab's unread entries read; the header badge refreshes."""
    await inbox.mark_all_read(session, subject.user_id, None, _tab_category(tab))
    response = await _drawer(request, session, subject, tab)
    response.headers["HX-Trigger"] = "inbox-changed"
    return response


@router.post("/notifications/{entry_id}/read-in-drawer", response_class=HTMLResponse)
async def drawer_mark_read(
    request: Request, entry_id: UUID, session: DbSession, subject: InboxReader
) -> HTMLResponse:
    entry = await inbox.mark_read(session, subject.user_id, entry_id)
    response = render(request, "notify/_drawer_row.html", {**_entry_context(), "entry": entry})
    response.headers["HX-Trigger"] = "inbox-changed"
    return response


@router.get("/notifications/{entry_id:uuid}", response_class=HTMLResponse)
async def entry_page(
    request: Request, entry_id: UUID, session: DbSession, subject: InboxReader
) -> HTMLResponse:
    """One notification in full, with the channels it went out on (grouped by its
    dispatch group: an SMS shows with its e-mail mirror and this inbox copy)."""
    entry, messages = await inbox.entry_with_channels(session, subject.user_id, entry_id)
    context = {
        **_entry_context(),
        **_message_context(False),
        "entry": entry,
        "messages": messages,
    }
    return render(request, "notify/detail.html", context)


# --- Preferences -------------------------------------------------------------------------


def _preferences_context(prefs: Any, *, saved: bool) -> dict[str, Any]:
    return {
        "prefs": prefs,
        "saved": saved,
        "booleans": [(name, PREFERENCE_LABELS[name]) for name in BOOLEAN_PREFERENCES],
        "marketing": {n for n in BOOLEAN_PREFERENCES if n.startswith("marketing_")},
        "locale_choices": [(code, locale_name(code)) for code in SUPPORTED_LOCALES],
    }


@router.get("/notifications/preferences", response_class=HTMLResponse)
async def preferences_page(
    request: Request, session: DbSession, subject: PreferenceEditor
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    prefs = await preferences.effective(session, subject.tenant_id, subject.user_id)
    return render(request, "notify/preferences.html", _preferences_context(prefs, saved=False))


@router.post("/notifications/preferences", response_class=HTMLResponse)
async def save_preferences(
    request: Request, session: DbSession, subject: PreferenceEditor
) -> HTMLResponse:
    """Save the form (an unticked checkbox is absent, so it means `false`) and re-render it."""
    request.state.locale = subject.user.locale
    form = await request.form()
    locale = form.get("locale") or None
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise ValidationFailed({"locale": N_("Choose one of the offered languages.")})
    changes: dict[str, Any] = {name: name in form for name in BOOLEAN_PREFERENCES}
    changes["locale"] = locale
    prefs = await preferences.update(session, subject, subject.user_id, changes)
    partial = request.headers.get("hx-request") == "true"
    template = "notify/_preferences_form.html" if partial else "notify/preferences.html"
    return render(request, template, _preferences_context(prefs, saved=True))


# --- Outbox (Monitoring) -------------------------------------------------------------------


def requeueable(message: OutboxMessage) -> bool:
    return (
        message.status is MessageStatus.FAILED
        and message.channel is not Channel.INBOX
        and message.error_code not in _NOT_REQUEUEABLE
    )


def _message_context(can_manage: bool) -> dict[str, Any]:
    return {
        "status_labels": MESSAGE_STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "can_manage": can_manage,
        "requeueable": requeueable,
    }


@router.get("/monitoring/messages", response_class=HTMLResponse)
async def messages_page(
    request: Request,
    session: DbSession,
    subject: OutboxReader,
    status: StatusFilter = None,
    channel: ChannelFilter = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    page = await outbox.list_messages(
        session, PageRequest(limit=PAGE_SIZE, cursor=cursor), status=status, channel=channel
    )
    query = {k: v.value for k, v in (("status", status), ("channel", channel)) if v}
    return render(
        request,
        "notify/messages.html",
        {
            **_message_context(subject.can("ops.runs.manage")),
            "page": page,
            "status": status,
            "channel": channel,
            "filters": query,
        },
    )


@router.post("/monitoring/messages/{message_id}/requeue", response_class=HTMLResponse)
async def requeue_message(
    request: Request, message_id: UUID, session: DbSession, subject: OutboxOperator
) -> HTMLResponse:
    """HTMX: put a failed message back on the queue and swap its row."""
    request.state.locale = subject.user.locale
    message = await outbox.requeue(session, subject, message_id)
    return render(
        request, "notify/_message_row.html", {**_message_context(True), "message": message}
    )


# --- Templates (Settings) ----------------------------------------------------------------


async def _templates_context(
    session: DbSession, subject: AuthSubject, notice: str | None = None
) -> dict[str, Any]:
    rows = await templates.list_templates(
        session, channel=None, family=None, locale=None, status=None
    )
    return {
        "templates": rows,
        "tenant_id": subject.tenant_id,
        "can_approve": subject.can("notify.templates.approve"),
        "status_labels": TEMPLATE_STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "notice": notice,
    }


async def _templates_table(
    request: Request, session: DbSession, subject: AuthSubject, notice: str
) -> HTMLResponse:
    context = await _templates_context(session, subject, notice)
    return render(request, "notify/_templates_table.html", context)


@router.get("/settings/templates", response_class=HTMLResponse)
async def templates_page(
    request: Request, session: DbSession, subject: TemplateManager
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    context = await _templates_context(session, subject)
    return render(request, "notify/templates.html", context)


@router.post("/settings/templates/{template_id}/customise", response_class=HTMLResponse)
async def customise_template(
    request: Request, template_id: UUID, session: DbSession, subject: TemplateManager
) -> HTMLResponse:
    """HTMX: a new draft version of one's own, copied from this row."""
    request.state.locale = subject.user.locale
    source = await templates.get_template(session, template_id)
    await templates.new_version(session, subject, source)
    return await _templates_table(request, session, subject, N_("A new draft was created."))


@router.post("/settings/templates/{template_id}/approve", response_class=HTMLResponse)
async def approve_template(
    request: Request, template_id: UUID, session: DbSession, subject: TemplateApprover
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    template = await templates.get_template(session, template_id)
    await templates.approve(session, subject, template)
    return await _templates_table(request, session, subject, N_("The template was approved."))


@router.post("/settings/templates/{template_id}/retire", response_class=HTMLResponse)
async def retire_template(
    request: Request, template_id: UUID, session: DbSession, subject: TemplateManager
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    template = await templates.get_template(session, template_id)
    await templates.retire(session, subject, template)
    return await _templates_table(request, session, subject, N_("The template was retired."))


# --- Development mail catcher ---------------------------------------------------------------


@router.get("/dev/mail", response_class=HTMLResponse, dependencies=[Depends(development_only)])
async def mail_page(request: Request, subject: OutboxReader) -> HTMLResponse:
    request.state.locale = subject.user.locale
    mails = await asyncio.to_thread(mailcatcher.list_mails, maildir(_settings(request)))
    return render(request, "notify/mail.html", {"mails": mails})


@router.get(
    "/dev/mail/{mail_id}", response_class=HTMLResponse, dependencies=[Depends(development_only)]
)
async def mail_detail_page(request: Request, mail_id: str, subject: OutboxReader) -> Response:
    request.state.locale = subject.user.locale
    mail = await asyncio.to_thread(mailcatcher.read_mail, maildir(_settings(request)), mail_id)
    if mail is None:
        raise NotFound()
    return render(request, "notify/mail_detail.html", {"mail": mail})


router.include_router(web_policies.router)
