"""SMTP adapter against the local mail catcher, and SMTP replies onto Appendix A §0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from m3crm.modules.notify.mailcatcher import MailCatcher, list_mails, read_mail
from m3crm.modules.notify.providers.base import OutboundEmail, ProviderError
from m3crm.modules.notify.providers.smtp import SmtpEmailProvider
from tests.live import free_port

EMAIL = OutboundEmail(
    message_ref="0b7e6a3e-0000-4000-8000-000000000003",
    to="sara@example.com",
    to_name="سارة علي",
    subject="تأكيد بريدك الإلكتروني",
    html="<p dir='rtl'>مرحبا سارة</p>",
    text="مرحبا سارة",
)


def smtp_provider(port: int, *, timeout: float = 5.0) -> SmtpEmailProvider:
    return SmtpEmailProvider(
        host="127.0.0.1",
        port=port,
        sender_email="no-reply@m3crm.example",
        sender_name="M3 CRM",
        timeout=timeout,
    )


@pytest.fixture
async def catcher(tmp_path: Path) -> AsyncIterator[MailCatcher]:
    mail_catcher = MailCatcher(tmp_path / "mail", port=0)
    await mail_catcher.start()
    yield mail_catcher
    await mail_catcher.stop()


async def test_sent_mail_is_caught_and_decoded(catcher: MailCatcher) -> None:
    result = await smtp_provider(catcher.port).send(EMAIL)

    assert result.provider == "smtp"
    assert result.provider_message_id.startswith("<")
    assert result.provider_message_id.endswith("@m3crm.example>")
    [mail] = list_mails(catcher.maildir)
    assert mail.subject == "تأكيد بريدك الإلكتروني"
    assert mail.sender == "no-reply@m3crm.example"
    assert mail.recipients == ("sara@example.com",)
    assert mail.text is not None
    assert mail.text.strip() == "مرحبا سارة"
    assert mail.html is not None
    assert "<p dir='rtl'>مرحبا سارة</p>" in mail.html
    assert read_mail(catcher.maildir, mail.id) == mail

    raw = (catcher.maildir / f"{mail.id}.eml").read_bytes()
    assert f"X-M3-Message-Ref: {EMAIL.message_ref}".encode() in raw
    assert f"Message-ID: {result.provider_message_id}".encode() in raw


async def test_raw_utf8_headers_are_decoded_too(catcher: MailCatcher) -> None:
    raw = (
        "From: a@m3crm.example\r\nSubject: عرض جديد\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        "\r\nنص\r\n"
    ).encode()
    await aiosmtplib.send(
        raw,
        sender="a@m3crm.example",
        recipients=["b@example.com", "c@example.com"],
        hostname="127.0.0.1",
        port=catcher.port,
        mail_options=["SMTPUTF8"],
    )
    [mail] = list_mails(catcher.maildir)
    assert mail.subject == "عرض جديد"
    assert mail.recipients == ("b@example.com", "c@example.com")
    assert mail.text is not None
    assert mail.text.strip() == "نص"
    assert mail.html is None


async def test_list_is_newest_first_and_limited(catcher: MailCatcher) -> None:
    provider = smtp_provider(catcher.port)
    for n in range(3):
        await provider.send(
            OutboundEmail(f"ref-{n}", "u@example.com", f"رسالة {n}", "<p>x</p>", "x")
        )

    mails = list_mails(catcher.maildir, limit=2)
    assert [m.subject for m in mails] == ["رسالة 2", "رسالة 1"]
    assert mails[0].received_at >= mails[1].received_at


@pytest.mark.parametrize(
    "mail_id", ["../outside", "..", "a/b", "/etc/passwd", "outside", "20250101T000000000000Z-x"]
)
def test_read_mail_rejects_anything_but_a_catcher_stem(tmp_path: Path, mail_id: str) -> None:
    maildir = tmp_path / "mail"
    maildir.mkdir()
    (tmp_path / "outside.eml").write_bytes(b"Subject: secret\r\n\r\nsecret\r\n")
    (maildir / "outside.eml").write_bytes(b"Subject: planted\r\n\r\nplanted\r\n")
    assert read_mail(maildir, mail_id) is None
    assert list_mails(maildir) == []


def test_missing_maildir_lists_nothing(tmp_path: Path) -> None:
    assert list_mails(tmp_path / "never-created") == []
    assert read_mail(tmp_path / "never-created", "20250101T000000000000Z-" + "0" * 32) is None


async def test_refused_connection_is_retryable() -> None:
    with pytest.raises(ProviderError) as caught:
        await smtp_provider(free_port()).send(EMAIL)
    assert (caught.value.code, caught.value.retryable) == ("TEMPORARY_FAILURE", True)
    assert EMAIL.text not in caught.value.message


async def test_silent_server_times_out_retryably() -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ProviderError) as caught:
            await smtp_provider(port, timeout=0.3).send(EMAIL)
    finally:
        server.close()
    assert (caught.value.code, caught.value.retryable) == ("TEMPORARY_FAILURE", True)


class Refusing:
    """An SMTP handler that answers RCPT or DATA with a fixed reply."""

    def __init__(self, *, rcpt: str | None = None, data: str | None = None) -> None:
        self.rcpt, self.data = rcpt, data

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt is not None:
            return self.rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.data or "250 OK"


@pytest.mark.parametrize(
    ("handler", "code", "retryable", "reply"),
    [
        (Refusing(rcpt="450 4.2.1 Mailbox busy"), "TEMPORARY_FAILURE", True, "450"),
        (Refusing(rcpt="550 5.1.1 No such user"), "INVALID_REQUEST", False, "550"),
        (Refusing(data="451 4.3.0 Try again later"), "TEMPORARY_FAILURE", True, "451"),
        (Refusing(data="554 5.7.1 Rejected as spam"), "INVALID_REQUEST", False, "554"),
    ],
)
async def test_smtp_replies_are_normalised(
    handler: Refusing, code: str, retryable: bool, reply: str
) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, loop=loop), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ProviderError) as caught:
            await smtp_provider(port).send(EMAIL)
    finally:
        server.close()
        await server.wait_closed()
    error = caught.value
    assert (error.code, error.retryable, error.provider_code) == (code, retryable, reply)
    assert EMAIL.text not in error.message


async def test_refused_login_is_unauthorized() -> None:
    def deny(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        return AuthResult(success=False, handled=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Refusing(), authenticator=deny, auth_require_tls=False, loop=loop),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    provider = SmtpEmailProvider(
        host="127.0.0.1",
        port=port,
        sender_email="no-reply@m3crm.example",
        sender_name="M3 CRM",
        username="relay-user",
        password="wrong",
    )
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.send(EMAIL)
    finally:
        server.close()
        await server.wait_closed()
    error = caught.value
    assert (error.code, error.retryable, error.provider_code) == ("UNAUTHORIZED", False, "535")


def test_sender_must_be_an_address() -> None:
    with pytest.raises(ValueError, match="not an address"):
        SmtpEmailProvider(host="h", port=25, sender_email="no-reply", sender_name="M3")
