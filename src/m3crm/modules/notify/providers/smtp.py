"""Plain SMTP e-mail: the adapter for a relay of one's own and for the local mail catcher.

SMTP has no idempotency key, so the outbox row's `message_ref` travels as the
`X-M3-Message-Ref` header: a retried send may arrive twice, but both copies name the row.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from m3crm.modules.notify.providers.base import (
    OutboundEmail,
    ProviderError,
    ProviderErrorCode,
    SendResult,
)

PROVIDER = "smtp"

_CONNECTION_LOST = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPServerDisconnected,
)


class SmtpEmailProvider:
    """`EmailProvider` that opens one SMTP connection per message.

    The Message-ID's domain is the sender's, never this host's name (which would leak
    the machine and costs a DNS lookup); it doubles as the EHLO name for that reason.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender_email: str,
        sender_name: str,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        local, _, domain = sender_email.rpartition("@")
        if not local or not domain:
            raise ValueError(f"sender_email is not an address: {sender_email!r}")
        self._host = host
        self._port = port
        self._sender = Address(display_name=sender_name, addr_spec=sender_email)
        self._domain = domain
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._timeout = timeout

    async def send(self, email: OutboundEmail) -> SendResult:
        message_id = make_msgid(domain=self._domain)
        try:
            await aiosmtplib.send(
                self._message(email, message_id),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
                timeout=self._timeout,
                local_hostname=self._domain,
            )
        except aiosmtplib.SMTPException as exc:
            raise _normalise(exc) from exc
        return SendResult(PROVIDER, message_id)

    def _message(self, email: OutboundEmail, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = Address(display_name=email.to_name or "", addr_spec=email.to)
        message["Subject"] = email.subject
        message["Message-ID"] = message_id
        message["X-M3-Message-Ref"] = email.message_ref
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message


def _normalise(exc: aiosmtplib.SMTPException) -> ProviderError:
    """SMTP reply classes onto §0: 4xx and lost connections are retryable, 5xx final.

    A refused login (535) is UNAUTHORIZED; a recipient list refused as a whole is
    retryable only when every refusal was a 4xx. Server replies can be echoed: they never
    contain our message body.
    """
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return _error("UNAUTHORIZED", exc, exc.code, retryable=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _error_for_reply(exc, exc.code)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _error_for_reply(exc, max((r.code for r in exc.recipients), default=550))
    if isinstance(exc, _CONNECTION_LOST):
        return _error("TEMPORARY_FAILURE", exc, None, retryable=True)
    return _error("PROVIDER_ERROR", exc, None, retryable=False)


def _error_for_reply(exc: aiosmtplib.SMTPException, reply: int) -> ProviderError:
    if 400 <= reply < 500:
        return _error("TEMPORARY_FAILURE", exc, reply, retryable=True)
    if 500 <= reply < 600:
        return _error("INVALID_REQUEST", exc, reply, retryable=False)
    return _error("PROVIDER_ERROR", exc, reply, retryable=False)


def _error(
    code: ProviderErrorCode, exc: aiosmtplib.SMTPException, reply: int | None, *, retryable: bool
) -> ProviderError:
    return ProviderError(
        code,
        f"smtp: {type(exc).__name__}: {exc}",
        provider=PROVIDER,
        provider_code=str(reply) if reply is not None else None,
        retryable=retryable,
    )
