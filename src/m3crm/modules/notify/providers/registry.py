"""Which adapter sends each channel, per tenant (settings choose the provider; the
tenant's stored credentials override the global ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.modules.notify.credentials import CredentialCipher, stored_credentials
from m3crm.modules.notify.providers.base import EmailProvider, SmsProvider, WhatsAppProvider
from m3crm.modules.notify.providers.brevo import BrevoEmailProvider
from m3crm.modules.notify.providers.devstub import DevStubTextProvider
from m3crm.modules.notify.providers.infobip import InfobipSmsProvider, InfobipWhatsAppProvider
from m3crm.modules.notify.providers.smtp import SmtpEmailProvider
from m3crm.settings import Settings


@dataclass(frozen=True, slots=True)
class ProviderSet:
    email: EmailProvider
    sms: SmsProvider
    whatsapp: WhatsAppProvider


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


class ProviderFactory:
    """Builds adapters once per distinct credential set and reuses them (one pooled
    HTTP client for the process)."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        # Keep-alive for as many connections as sends in flight: a smaller keep-alive
        # pool would close and reopen connections on every batch.
        in_flight = settings.notify_send_concurrency
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=5.0),
            limits=httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight),
        )
        self.cipher = CredentialCipher(settings.notify_credentials_key.get_secret_value())
        self.devstub_sms = DevStubTextProvider("sms")
        self.devstub_whatsapp = DevStubTextProvider("whatsapp")
        self._cache: dict[tuple[str, ...], ProviderSet] = {}

    async def close(self) -> None:
        await self.client.aclose()

    async def for_tenant(self, session: AsyncSession) -> ProviderSet:
        """The adapters for the tenant the session is bound to."""
        s = self.settings
        brevo: dict[str, Any] = {}
        infobip: dict[str, Any] = {}
        if s.notify_email_provider == "brevo":
            brevo = await stored_credentials(session, self.cipher, "brevo")
        if "infobip" in (s.notify_sms_provider, s.notify_whatsapp_provider):
            infobip = await stored_credentials(session, self.cipher, "infobip")
        key = (
            str(brevo.get("api_key") or _secret(s.brevo_api_key)),
            str(infobip.get("api_key") or _secret(s.infobip_api_key)),
            str(infobip.get("base_url") or s.infobip_base_url),
        )
        if key not in self._cache:
            self._cache[key] = self._build(*key)
        return self._cache[key]

    def _build(self, brevo_key: str, infobip_key: str, infobip_url: str) -> ProviderSet:
        s = self.settings
        notify_url = f"{s.base_url.rstrip('/')}/v1/webhooks/infobip"
        email: EmailProvider
        if s.notify_email_provider == "brevo":
            email = BrevoEmailProvider(
                self.client,
                api_key=brevo_key,
                sender_email=s.notify_sender_email,
                sender_name=s.notify_sender_name,
                base_url=s.brevo_base_url,
            )
        else:
            email = SmtpEmailProvider(
                host=s.smtp_host,
                port=s.smtp_port,
                sender_email=s.notify_sender_email,
                sender_name=s.notify_sender_name,
                username=s.smtp_username or None,
                password=_secret(s.smtp_password) or None,
                start_tls=s.smtp_start_tls,
            )
        sms: SmsProvider = self.devstub_sms
        if s.notify_sms_provider == "infobip":
            sms = InfobipSmsProvider(
                self.client,
                api_key=infobip_key,
                base_url=infobip_url,
                sender=s.infobip_sms_sender,
                notify_url=notify_url,
            )
        whatsapp: WhatsAppProvider = self.devstub_whatsapp
        if s.notify_whatsapp_provider == "infobip":
            whatsapp = InfobipWhatsAppProvider(
                self.client,
                api_key=infobip_key,
                base_url=infobip_url,
                sender_number=s.infobip_whatsapp_sender,
                notify_url=notify_url,
            )
        return ProviderSet(email=email, sms=sms, whatsapp=whatsapp)
