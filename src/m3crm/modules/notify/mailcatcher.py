"""A local SMTP sink for development: every message is kept on disk, none leaves the host.

`MailCatcher` accepts any mail on a loopback port and writes it, as received, to
`<maildir>/<timestamp>-<uuid>.eml` with the SMTP envelope prepended as `X-Envelope-From`
/ `X-Envelope-To` headers. File names sort in arrival order, and a file appears only
once complete (written aside, then renamed), so readers never see half a message.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

SUFFIX = ".eml"
_STAMP = "%Y%m%dT%H%M%S%fZ"
_MAIL_ID = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class CaughtMail:
    id: str
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str | None
    html: str | None


class MailCatcher:
    """An SMTP server on the caller's event loop, between `await start()` and `stop()`.

    `port=0` picks a free port; `port` tells which one was bound once started. Binds to
    loopback by default: the catcher has no authentication and MUST NOT face a network.
    """

    def __init__(self, maildir: Path, *, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.maildir = maildir
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("mail catcher already started")
        self.maildir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        handler = _StoreHandler(self.maildir)
        self._server = await loop.create_server(
            lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="mailcatcher", loop=loop),
            host=self.host,
            port=self._port,
        )

    async def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        await server.wait_closed()


class _StoreHandler:
    """aiosmtpd handler: DATA is accepted once the message is safely on disk."""

    def __init__(self, maildir: Path) -> None:
        self._maildir = maildir

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from or ''}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        await asyncio.to_thread(_store, self._maildir, envelope_headers + content)
        return "250 Message accepted for delivery"


def _store(maildir: Path, data: bytes) -> None:
    stem = f"{datetime.now(UTC):{_STAMP}}-{uuid.uuid4().hex}"
    partial = maildir / f".{stem}.tmp"
    partial.write_bytes(data)
    os.replace(partial, maildir / f"{stem}{SUFFIX}")


def list_mails(maildir: Path, limit: int = 100) -> list[CaughtMail]:
    """The newest `limit` caught mails, newest first; none when the maildir is missing."""
    if not maildir.is_dir():
        return []
    stems = sorted(
        (path.stem for path in maildir.glob(f"*{SUFFIX}") if _MAIL_ID.fullmatch(path.stem)),
        reverse=True,
    )
    return [_load(maildir, stem) for stem in stems[:limit]]


def read_mail(maildir: Path, mail_id: str) -> CaughtMail | None:
    """One caught mail by its id; None for an unknown id or one that is not a bare
    catcher file stem (so `../x` or `a/b` can never name a file outside `maildir`)."""
    if not _MAIL_ID.fullmatch(mail_id) or not (maildir / f"{mail_id}{SUFFIX}").is_file():
        return None
    return _load(maildir, mail_id)


def _load(maildir: Path, stem: str) -> CaughtMail:
    raw = (maildir / f"{stem}{SUFFIX}").read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    recipients = str(message.get("X-Envelope-To", ""))
    return CaughtMail(
        id=stem,
        received_at=datetime.strptime(stem.partition("-")[0], _STAMP).replace(tzinfo=UTC),
        sender=str(message.get("X-Envelope-From", "")),
        recipients=tuple(r.strip() for r in recipients.split(",") if r.strip()),
        subject=str(message.get("Subject", "")),
        text=_body(message, "plain"),
        html=_body(message, "html"),
    )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None
