"""The account security page (spec Section 1 §10 "Security Page"): TOTP set-up, confirm
and disable, backup codes, SMS/WhatsApp sign-in codes; the same service as the API.

Forms post through htmx (cookie-authenticated writes need `HX-Request: true`). A wrong
code or password re-renders its form with the message beside the field (422); other
domain errors render the shared error partial in `#page-alerts`. Every form that checks a
code or a password counts against the API's per-account limit (`twofa.account`, 429).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import AuthSubject, DbSession, entitlements_of
from m3crm.kernel.i18n import N_
from m3crm.modules.identity import twofa
from m3crm.modules.identity.api_twofa import (
    TOTP_FEATURE,
    Attempt,
    Box,
    TotpManager,
    TwoFactorManager,
)
from m3crm.modules.identity.twofa import Channel, InvalidCode
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

CHANNEL_LABELS = {Channel.SMS: N_("SMS"), Channel.WHATSAPP: N_("WhatsApp")}
CHANNEL_HELP = {
    Channel.SMS: N_("Receive a one-time sign-in code by text message."),
    Channel.WHATSAPP: N_("Receive a one-time sign-in code on WhatsApp."),
}


async def _context(session: DbSession, subject: AuthSubject, **extra: Any) -> dict[str, Any]:
    features = (await entitlements_of(session, subject)).features
    state = await twofa.status(session, subject)
    channels = [
        {
            "code": channel.value,
            "label": CHANNEL_LABELS[channel],
            "help": CHANNEL_HELP[channel],
            "enabled": getattr(state, f"{channel.value}_enabled"),
            "in_plan": channel.feature in features,
        }
        for channel in Channel
    ]
    return {
        "status": state,
        "totp_in_plan": TOTP_FEATURE in features,
        "channels": channels,
        "errors": {},
        "notice": None,
        **extra,
    }


def _form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.get("/account/security", response_class=HTMLResponse)
async def security_page(
    request: Request, session: DbSession, subject: TwoFactorManager
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    return render(request, "identity/security.html", await _context(session, subject))


@router.post("/account/security/totp/setup", response_class=HTMLResponse)
async def totp_setup(
    request: Request, session: DbSession, subject: TotpManager, box: Box
) -> HTMLResponse:
    """HTMX: a new seed; the partial shows its QR code, the key and the confirm form."""
    request.state.locale = subject.user.locale
    setup = await twofa.start_totp_setup(session, box, subject)
    return render(request, "identity/_security_setup.html", {"setup": setup, "errors": {}})


@router.post("/account/security/totp/confirm", response_class=HTMLResponse)
async def totp_confirm(
    request: Request, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> HTMLResponse:
    """HTMX: enable TOTP and show the backup codes once; a wrong code re-renders the
    set-up partial with the message beside the field."""
    request.state.locale = subject.user.locale
    code = _form_value(await request.form(), "code")
    try:
        codes = await twofa.confirm_totp(session, box, subject, code)
    except InvalidCode as exc:
        setup = await twofa.pending_totp_setup(session, box, subject)
        errors = {"code": exc.message}
        context = {"setup": setup, "errors": errors}
        return render(request, "identity/_security_setup.html", context, status_code=422)
    return render(request, "identity/_security_codes.html", {"codes": codes, "enabled_now": True})


@router.post("/account/security/totp/disable", response_class=HTMLResponse)
async def totp_disable(
    request: Request, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    form = await request.form()
    try:
        await twofa.disable_totp(
            session,
            box,
            subject,
            password=_form_value(form, "password"),
            code=_form_value(form, "code"),
        )
    except InvalidCode as exc:
        context = await _context(session, subject, errors={"disable": exc.details["fields"]})
        return render(request, "identity/_security_totp.html", context, status_code=422)
    context = await _context(session, subject, notice=N_("Two-step sign-in was turned off."))
    return render(request, "identity/_security_totp.html", context)


@router.post("/account/security/backup-codes/regenerate", response_class=HTMLResponse)
async def backup_codes_regenerate(
    request: Request, session: DbSession, subject: TotpManager, _: Attempt, box: Box
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    password = _form_value(await request.form(), "password")
    try:
        codes = await twofa.regenerate_backup_codes(session, box, subject, password=password)
    except InvalidCode as exc:
        context = await _context(session, subject, errors={"regenerate": exc.details["fields"]})
        return render(request, "identity/_security_totp.html", context, status_code=422)
    return render(request, "identity/_security_codes.html", {"codes": codes, "enabled_now": False})


async def _toggle(
    request: Request, session: DbSession, subject: AuthSubject, channel: Channel, *, enabled: bool
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    await twofa.set_channel(session, subject, channel, enabled=enabled)
    context = await _context(session, subject, notice=N_("Your choice was saved."))
    return render(request, "identity/_security_channels.html", context)


@router.post("/account/security/channels/{channel}/enable", response_class=HTMLResponse)
async def channel_enable(
    request: Request, channel: Channel, session: DbSession, subject: TwoFactorManager
) -> HTMLResponse:
    """HTMX: turn SMS/WhatsApp sign-in codes on (plan feature and verified phone needed)
    and swap the channels panel."""
    return await _toggle(request, session, subject, channel, enabled=True)


@router.post("/account/security/channels/{channel}/disable", response_class=HTMLResponse)
async def channel_disable(
    request: Request, channel: Channel, session: DbSession, subject: TwoFactorManager
) -> HTMLResponse:
    return await _toggle(request, session, subject, channel, enabled=False)
