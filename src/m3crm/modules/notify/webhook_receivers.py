"""`/v1/webhooks/brevo` and `/v1/webhooks/infobip` (spec §2.7, Appendix A §1.3, §2.3).

Authenticity first: a request without the configured secret is answered 401 and
touches nothing (an unconfigured secret refuses every request). Then the body must be
a shape we know, else 400 `DLR_INVALID` (its raw body kept for the operator).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import SecretStr

from m3crm.kernel.auth import get_database, get_settings_dep
from m3crm.kernel.db.session import Database
from m3crm.kernel.errors import DomainError, NotAuthenticated, error_responses
from m3crm.kernel.i18n import N_
from m3crm.modules.notify.providers.base import DeliveryEvent, WebhookPayloadInvalid
from m3crm.modules.notify.providers.brevo import parse_brevo_webhook
from m3crm.modules.notify.providers.infobip import parse_infobip_webhook
from m3crm.modules.notify.schemas import WebhookAck
from m3crm.modules.notify.webhooks import ingest, store_invalid
from m3crm.settings import Settings


class DeliveryReportInvalid(DomainError):
    status_code = 400
    code = "DLR_INVALID"
    default_message = N_("The delivery report is not in a format we understand.")


router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    responses=error_responses(NotAuthenticated, DeliveryReportInvalid),
)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]


def _matches(given: str | None, secret: SecretStr | None) -> bool:
    expected = secret.get_secret_value() if secret else ""
    return bool(expected) and given is not None and hmac.compare_digest(given, expected)


def brevo_authentic(request: Request, settings: Settings) -> bool:
    """Brevo sends the token we configured as a bearer token, or as the password of
    basic auth (both are offered by Brevo's webhook settings)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return _matches(value.strip(), settings.brevo_webhook_token)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return _matches(decoded.partition(":")[2], settings.brevo_webhook_token)
    return False


def infobip_authentic(request: Request, settings: Settings) -> bool:
    return _matches(request.headers.get("x-webhook-secret"), settings.infobip_webhook_secret)


async def _receive(
    request: Request,
    database: Database,
    provider: str,
    parse: Callable[[Any], list[DeliveryEvent]],
) -> WebhookAck:
    raw = await request.body()
    headers = dict(request.headers)
    try:
        payload = json.loads(raw)
        events = parse(payload)
    except (ValueError, WebhookPayloadInvalid):
        digest = hashlib.sha256(raw).hexdigest()
        stored = {"raw": raw[:65536].decode("utf-8", errors="replace")}
        await store_invalid(database, provider, f"invalid:{digest}", headers, stored)
        raise DeliveryReportInvalid() from None
    summary = await ingest(database, provider, events, headers=headers, payload=payload)
    return WebhookAck(
        applied=summary.applied, duplicates=summary.duplicates, unmatched=summary.unmatched
    )


@router.post("/brevo", response_model=WebhookAck)
async def brevo_webhook(
    request: Request, settings: SettingsDep, database: DatabaseDep
) -> WebhookAck:
    if not brevo_authentic(request, settings):
        raise NotAuthenticated()
    return await _receive(request, database, "brevo", parse_brevo_webhook)


@router.post("/infobip", response_model=WebhookAck)
async def infobip_webhook(
    request: Request, settings: SettingsDep, database: DatabaseDep
) -> WebhookAck:
    if not infobip_authentic(request, settings):
        raise NotAuthenticated()
    return await _receive(request, database, "infobip", parse_infobip_webhook)
