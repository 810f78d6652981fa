"""Production refuses to start with development secrets or insecure cookies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from m3crm.settings import Settings

STRONG = {
    "jwt_secret": "j" * 24 + "0123456789abcdef",
    "secrets_key": "s" * 24 + "0123456789abcdef",
    "notify_credentials_key": "n" * 24 + "0123456789abcdef",
    "app_db_password": "a-long-random-database-password",
    "cookie_secure": True,
}


def production(**overrides: Any) -> Settings:
    values = {**STRONG, **overrides}
    return Settings(_env_file=None, environment="production", **values)  # type: ignore[call-arg]


def test_production_with_real_secrets_starts() -> None:
    settings = production()
    assert settings.environment == "production" and settings.cookie_secure


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("jwt_secret", "M3CRM_JWT_SECRET"),
        ("secrets_key", "M3CRM_SECRETS_KEY"),
        ("notify_credentials_key", "M3CRM_NOTIFY_CREDENTIALS_KEY"),
        ("app_db_password", "M3CRM_APP_DB_PASSWORD"),
    ],
)
def test_a_development_default_is_refused(field: str, variable: str) -> None:
    default = Settings.model_fields[field].default.get_secret_value()
    with pytest.raises(ValidationError) as refused:
        production(**{field: default})
    assert f"{variable} is the development default" in str(refused.value)


def test_short_secrets_and_plain_http_cookies_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        production(jwt_secret="short-secret", cookie_secure=False)
    message = str(refused.value)
    assert "M3CRM_JWT_SECRET is shorter than 32 characters" in message
    assert "M3CRM_COOKIE_SECURE must be true" in message


def test_development_keeps_its_defaults() -> None:
    settings = Settings(_env_file=None, environment="development")  # type: ignore[call-arg]
    assert not settings.cookie_secure
