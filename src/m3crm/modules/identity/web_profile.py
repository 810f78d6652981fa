"""The "My profile" page: name and language, and the phone verification card (htmx).

The same service calls as the API (`identity.phone`). Every write is an htmx POST (the
kernel refuses cookie writes without `HX-Request`). Form mistakes and refused codes come
back as the re-rendered form or card with the message beside the field; a refused code is
answered without raising, so its counted attempt is committed (see `phone.PhoneCodeRefused`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession, Subject, require
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_, SUPPORTED_LOCALES, locale_name
from m3crm.modules.identity import phone
from m3crm.modules.identity.api_twofa import Box
from m3crm.modules.identity.models import PhoneVerification
from m3crm.modules.identity.phone import (
    CODE_TTL,
    InvalidPhoneCode,
    NoPendingVerification,
    PhoneAttemptsExceeded,
    PhoneCodeRefused,
)
from m3crm.modules.identity.work_codes import WORK_CODE_LABELS, work_code_choices
from m3crm.modules.notify.deps import NotifierDep
from m3crm.modules.notify.models import Channel
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

PhoneStarter = Annotated[AuthSubject, Depends(require("phone.verify.start"))]
PhoneConfirmer = Annotated[AuthSubject, Depends(require("phone.verify.confirm"))]

CHANNEL_LABELS = {Channel.SMS.value: N_("SMS"), Channel.WHATSAPP.value: N_("WhatsApp")}
FormText = Annotated[str, Form(max_length=200)]


def _field_errors(error: ValidationFailed) -> dict[str, str]:
    fields: dict[str, str] = error.details.get("fields", {})
    return fields


# --- profile form ----------------------------------------------------------------------


async def _form_context(
    session: DbSession,
    subject: AuthSubject,
    profile: phone.ProfileView,
    *,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The account form: name, language, job title and department (choices from the
    coded dictionaries, labelled in the person's language)."""
    current = {
        "full_name": profile.full_name,
        "locale": profile.locale,
        "job_title_code": profile.job_title_code or "",
        "department_code": profile.department_code or "",
    }
    return {
        "profile": profile,
        "saved": saved,
        "errors": errors or {},
        "values": values or current,
        "locale_choices": [(code, locale_name(code)) for code in SUPPORTED_LOCALES],
        "work_choices": await work_code_choices(session, subject.tenant_id, profile.locale),
        "work_labels": WORK_CODE_LABELS,
    }


# --- phone card ------------------------------------------------------------------------


async def _card_context(
    session: DbSession,
    subject: AuthSubject,
    *,
    verification: PhoneVerification | None = None,
    show_pending: bool = True,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    if verification is None and show_pending:
        verification = await phone.pending(session, subject)
    wait = 0
    if verification is not None:
        left = (phone.resend_after(verification) - datetime.now(UTC)).total_seconds()
        wait = max(0, math.ceil(left))
    return {
        "profile": await phone.read_profile(session, subject),
        "verification": verification,
        "resend_wait": wait,
        "can_start": subject.can("phone.verify.start"),
        "can_confirm": subject.can("phone.verify.confirm"),
        "channel_labels": CHANNEL_LABELS,
        "minutes": int(CODE_TTL.total_seconds() // 60),
        "errors": errors or {},
        "error": error,
        "notice": notice,
        "values": values or {},
    }


def _card(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, "identity/_phone_card.html", {"card": context}, status_code=status_code)


# --- routes ----------------------------------------------------------------------------


@router.get("/account/profile", response_class=HTMLResponse)
async def profile_page(request: Request, session: DbSession, subject: Subject) -> HTMLResponse:
    request.state.locale = subject.user.locale
    profile = await phone.read_profile(session, subject)
    context = {
        **await _form_context(session, subject, profile),
        "card": await _card_context(session, subject),
    }
    return render(request, "identity/profile.html", context)


@router.post("/account/profile", response_class=HTMLResponse)
async def save_profile(
    request: Request,
    session: DbSession,
    subject: Subject,
    full_name: FormText = "",
    locale: Annotated[str, Form(max_length=8)] = "",
    job_title_code: Annotated[str, Form(max_length=40)] = "",
    department_code: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Save name, language, job title and department (an empty choice clears it); a new
    language reloads the whole page in it."""
    request.state.locale = subject.user.locale
    before = subject.user.locale
    values = {
        "full_name": full_name,
        "locale": locale,
        "job_title_code": job_title_code,
        "department_code": department_code,
    }
    work = {"job_title_code": job_title_code or None, "department_code": department_code or None}
    try:
        profile = await phone.update_profile(
            session, subject, full_name=full_name, locale=locale or None, work_codes=work
        )
    except ValidationFailed as invalid:
        current = await phone.read_profile(session, subject)
        context = await _form_context(
            session, subject, current, errors=_field_errors(invalid), values=values
        )
        return render(request, "identity/_profile_form.html", context, status_code=422)
    context = await _form_context(session, subject, profile, saved=True)
    response = render(request, "identity/_profile_form.html", context)
    if profile.locale != before:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/account/profile/phone/start", response_class=HTMLResponse)
async def start_phone(
    request: Request,
    session: DbSession,
    subject: PhoneStarter,
    notifier: NotifierDep,
    box: Box,
    e164: FormText = "",
    channel: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Send a code and show the code form; a bad number re-renders the number form."""
    request.state.locale = subject.user.locale
    try:
        started = await phone.start(session, box, subject, notifier, e164, channel)
    except ValidationFailed as invalid:
        context = await _card_context(
            session,
            subject,
            show_pending=False,
            errors=_field_errors(invalid),
            values={"e164": e164, "channel": channel},
        )
        return _card(request, context, status_code=422)
    context = await _card_context(
        session, subject, verification=started.verification, notice=N_("We sent you a code.")
    )
    return _card(request, context)


@router.post("/account/profile/phone/resend", response_class=HTMLResponse)
async def resend_phone(
    request: Request,
    session: DbSession,
    subject: PhoneStarter,
    notifier: NotifierDep,
    box: Box,
    verification_id: Annotated[UUID, Form()],
) -> HTMLResponse:
    """A new code (at most once a minute; sooner is a 429 alert)."""
    request.state.locale = subject.user.locale
    started = await phone.resend(session, box, subject, notifier, verification_id)
    context = await _card_context(
        session, subject, verification=started.verification, notice=N_("We sent you a new code.")
    )
    return _card(request, context)


@router.post("/account/profile/phone/confirm", response_class=HTMLResponse)
async def confirm_phone(
    request: Request,
    session: DbSession,
    subject: PhoneConfirmer,
    box: Box,
    e164: FormText = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Check the code; a refused code re-renders the card with the reason (committed)."""
    request.state.locale = subject.user.locale
    try:
        await phone.confirm(session, box, subject, e164, code.strip())
    except InvalidPhoneCode as wrong:
        context = await _card_context(
            session, subject, errors={"code": wrong.message}, values={"e164": e164}
        )
        context["attempts_left"] = wrong.details["attempts_left"]
        return _card(request, context, status_code=wrong.status_code)
    except (PhoneAttemptsExceeded, NoPendingVerification) as ended:
        context = await _card_context(session, subject, show_pending=False, error=ended.message)
        return _card(request, context, status_code=ended.status_code)
    except (PhoneCodeRefused, ValidationFailed) as refused:
        errors = _field_errors(refused) if isinstance(refused, ValidationFailed) else {}
        message = None if errors else refused.message
        context = await _card_context(
            session, subject, errors=errors, error=message, values={"e164": e164}
        )
        return _card(request, context, status_code=refused.status_code)
    context = await _card_context(
        session, subject, show_pending=False, notice=N_("Your phone number is verified.")
    )
    return _card(request, context)


@router.post("/account/profile/phone/cancel", response_class=HTMLResponse)
async def cancel_phone(request: Request, session: DbSession, subject: PhoneStarter) -> HTMLResponse:
    """Stop the pending verification and show the number form again."""
    request.state.locale = subject.user.locale
    notice: str | None = N_("The verification was cancelled.")
    try:
        await phone.cancel(session, subject)
    except NoPendingVerification:
        notice = None
    context = await _card_context(session, subject, show_pending=False, notice=notice)
    return _card(request, context)
