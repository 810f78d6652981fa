"""Stored code digests are keyed by the server secret (`secrets_key`) and the record:
the record's id alone, which sits next to the digest in the table, does not suffice to
check guesses offline."""

from __future__ import annotations

import hashlib
import hmac
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.crypto import SecretBox
from m3crm.modules.identity import twofa
from m3crm.modules.identity.models import BackupCode
from m3crm.modules.identity.secrets import code_matches, hash_code
from tests.conftest import World
from tests.modules.identity.test_twofa import box, enabled_at_t0


def keyed_by_id_only(record: bytes, code: str) -> str:
    return hmac.new(record, code.encode(), hashlib.sha256).hexdigest()


def test_a_code_digest_needs_the_server_secret() -> None:
    record = uuid4()
    ours, theirs = SecretBox("one-server-secret-" + "x" * 20), SecretBox("another-" + "y" * 30)
    digest = hash_code(ours, record, "123456")
    assert digest != keyed_by_id_only(record.bytes, "123456")
    assert digest != hash_code(theirs, record, "123456")
    assert digest != hash_code(ours, uuid4(), "123456")
    assert code_matches(ours, record, "123456", digest)
    assert not code_matches(theirs, record, "123456", digest)
    assert not code_matches(ours, record, "123457", digest)


async def test_backup_codes_are_stored_under_the_server_secret(
    session: AsyncSession, world: World
) -> None:
    subject, _totp, codes = await enabled_at_t0(session, world)
    stored = set(
        (
            await session.execute(
                select(BackupCode.code_hash).where(BackupCode.user_id == subject.user_id)
            )
        ).scalars()
    )
    plain = [twofa.normalize_backup_code(c) for c in codes]
    assert {hash_code(box(world), subject.user_id, c) for c in plain} == stored
    assert not {keyed_by_id_only(subject.user_id.bytes, c) for c in plain} & stored
    other = SecretBox("a-different-secrets-key-" + "z" * 16)
    assert not await twofa.consume_backup_code(session, other, subject.user_id, codes[0])
    assert await twofa.consume_backup_code(session, box(world), subject.user_id, codes[0])
