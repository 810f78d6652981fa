"""Settings → Notification policies: the workspace's policies (Section 14 §3), edited by
an admin (`notify.policies.manage`), and the verified-phone policy (Section 1 §8,
`twofa.manage.tenant`); the page opens for either right and shows the forms it allows.
The same service as the API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from m3crm.kernel.auth import DbSession
from m3crm.kernel.i18n import N_
from m3crm.modules.notify import policies
from m3crm.modules.notify.auth import PhonePolicyManager, PolicyManager, PolicyReader
from m3crm.web.templating import render

router = APIRouter(include_in_schema=False)

POLICY_TEXTS: dict[str, tuple[str, str]] = {
    "mirroring": (
        N_("Copy SMS and WhatsApp messages to e-mail and the inbox"),
        N_(
            "When a person receives an SMS or WhatsApp message, they also get it by e-mail"
            " and in their in-app inbox, so nothing is lost if the phone is off."
        ),
    ),
    "allow_transactional_over_stop": (
        N_("Send transactional SMS to numbers that replied STOP"),
        N_(
            "Sign-in codes and account alerts still reach a number that opted out of SMS."
            " Marketing SMS never do."
        ),
    ),
}
"""Label and explanation of each policy of `Policies`, in the order the page shows them."""


PHONE_POLICY_TEXT = (
    N_("Send SMS and WhatsApp only to verified phones"),
    N_(
        "Messages to a person in this workspace go only to the mobile number they verified"
        " on their profile. Codes that verify a number are still sent."
    ),
)
"""The verified-phone policy (Section 1 §8): its own form, saved under `twofa.manage.tenant`."""


def _context(
    current: policies.Policies, *, saved: bool, phone_saved: bool = False
) -> dict[str, Any]:
    return {
        "policies": asdict(current),
        "texts": POLICY_TEXTS,
        "phone_text": PHONE_POLICY_TEXT,
        "saved": saved,
        "phone_saved": phone_saved,
    }


@router.get("/settings/notification-policies", response_class=HTMLResponse)
async def policies_page(
    request: Request, session: DbSession, subject: PolicyReader
) -> HTMLResponse:
    request.state.locale = subject.user.locale
    current = await policies.load_policies(session)
    return render(request, "notify/policies.html", _context(current, saved=False))


@router.post("/settings/notification-policies", response_class=HTMLResponse)
async def save_policies(
    request: Request, session: DbSession, subject: PolicyManager
) -> HTMLResponse:
    """Save the form (an unticked checkbox is absent, so it means off) and re-render it."""
    request.state.locale = subject.user.locale
    form = await request.form()
    changes = {name: name in form for name in POLICY_TEXTS}
    saved = await policies.save_policies(session, subject, changes)
    partial = request.headers.get("hx-request") == "true"
    template = "notify/_policies_form.html" if partial else "notify/policies.html"
    return render(request, template, _context(saved, saved=True))


@router.post("/settings/notification-policies/phone", response_class=HTMLResponse)
async def save_phone_policy(
    request: Request, session: DbSession, subject: PhonePolicyManager
) -> HTMLResponse:
    """As `PUT /v1/admin/phone-policy`: the checkbox ticked turns the policy on."""
    request.state.locale = subject.user.locale
    form = await request.form()
    changes = {"require_verified_phone": "require_verified_phone" in form}
    saved = await policies.save_policies(session, subject, changes)
    return render(
        request, "notify/_phone_policy_form.html", _context(saved, saved=False, phone_saved=True)
    )
