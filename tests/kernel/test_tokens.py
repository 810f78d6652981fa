"""Access tokens: a verified token is remembered, but never past its expiry, and a
remembered token is never accepted under other verification parameters."""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import uuid4

import pytest
from pydantic import SecretStr

from m3crm.kernel.errors import NotAuthenticated
from m3crm.kernel.tokens import mint_access_token, verify_access_token
from tests.harness import settings_for

SETTINGS = settings_for("postgresql+psycopg://app:app@127.0.0.1/none")


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, user = uuid4(), uuid4()
    token = mint_access_token(
        SETTINGS, tenant_id=tenant, user_id=user, lifetime=timedelta(minutes=1)
    )
    claims = verify_access_token(SETTINGS, token)
    assert (claims.tenant_id, claims.user_id) == (tenant, user)
    assert verify_access_token(SETTINGS, token) == claims  # served from the cache
    later = time.time() + 61
    monkeypatch.setattr("m3crm.kernel.tokens.time.time", lambda: later)
    with pytest.raises(NotAuthenticated):
        verify_access_token(SETTINGS, token)


def test_a_remembered_token_is_checked_again_under_another_secret() -> None:
    token = mint_access_token(SETTINGS, tenant_id=uuid4(), user_id=uuid4())
    verify_access_token(SETTINGS, token)
    rotated = SETTINGS.model_copy(
        update={"jwt_secret": SecretStr("another-secret-0123456789abcdef0123456789")}
    )
    with pytest.raises(NotAuthenticated):
        verify_access_token(rotated, token)
    other_audience = SETTINGS.model_copy(update={"jwt_audience": "someone-else"})
    with pytest.raises(NotAuthenticated):
        verify_access_token(other_audience, token)
