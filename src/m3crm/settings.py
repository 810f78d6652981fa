"""One Settings object, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


DEV_JWT_SECRET = "dev-only-change-me-0123456789abcdef0123456789"  # noqa: S105 (refused in production)
DEV_SECRETS_KEY = "dev-only-secrets-key-change-me"
DEV_NOTIFY_KEY = "dev-only-notify-key-change-me"
DEV_APP_DB_PASSWORD = "m3crm_app"  # noqa: S105 (refused in production)
MIN_SECRET_LENGTH = 32
"""Production secrets (`jwt_secret`, `secrets_key`, `notify_credentials_key`) are at
least this long: an HS256 key shorter than its 256-bit hash is guessable offline."""

AUTH_RATE_LIMITS: dict[str, str] = {
    "login.ip": "30/minute",
    "login.account": "10/minute",
    "signup.ip": "10/hour",
    "reset.ip": "10/hour",
    "reset.account": "5/hour",
    "refresh.ip": "120/minute",
    "token.ip": "30/minute",
    "twofa.account": "10/minute",
    "login_code.account": "1/minute",
}


class Settings(BaseSettings):
    """Deployment configuration. Every field is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_prefix="M3CRM_", env_file=".env", extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    app_db_role: str = "m3crm_app"
    app_db_password: SecretStr = SecretStr(DEV_APP_DB_PASSWORD)
    data_dir: Path = PROJECT_ROOT / "var"
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "m3crm"
    jwt_audience: str = "m3crm-api"
    jwt_algorithms: list[str] = ["HS256"]
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    refresh_absolute_days: int = 90
    login_max_failures: int = 5
    login_lockout_minutes: int = 10
    secrets_key: SecretStr = SecretStr(DEV_SECRETS_KEY)
    cookie_secure: bool = False
    auth_rate_limits: dict[str, str] = dict(AUTH_RATE_LIMITS)
    """Per-IP and per-account limits of the sign-in endpoints; a name left out of the
    environment's value keeps its default (`AUTH_RATE_LIMITS`)."""
    rate_limit_user: str = "600/minute"
    rate_limit_tenant: str = "6000/minute"
    rate_limit_ip: str = "1200/minute"
    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 26_214_400
    """Bodies of the paths registered with `kernel.web.middleware.allow_uploads`."""
    default_timezone: str = "Africa/Cairo"
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = 10
    job_max_attempts: int = 5
    job_backoff_base_seconds: float = 2.0
    job_backoff_cap_seconds: float = 600.0
    stalled_worker_seconds: float = 60.0
    worker_concurrency: int = 4
    # Notifications core (spec Section 2): providers per channel and their settings.
    base_url: str = "http://127.0.0.1:8000"
    notify_email_provider: Literal["smtp", "brevo"] = "smtp"
    notify_sms_provider: Literal["devstub", "infobip"] = "devstub"
    notify_whatsapp_provider: Literal["devstub", "infobip"] = "devstub"
    notify_sender_email: str = "no-reply@m3crm.test"
    notify_sender_name: str = "M3CoreCRM"
    notify_credentials_key: SecretStr = SecretStr(DEV_NOTIFY_KEY)
    notify_batch_size: int = 200
    notify_send_concurrency: int = 32
    notify_claim_seconds: float = 120.0
    notify_poll_seconds: float = 1.0
    notify_retry_minutes: list[float] = [1.0, 5.0, 15.0]
    notify_devstub_delivery_seconds: float = 2.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool = False
    mailcatcher_enabled: bool = True
    brevo_api_key: SecretStr | None = None
    brevo_base_url: str = "https://api.brevo.com"
    brevo_webhook_token: SecretStr | None = None
    infobip_api_key: SecretStr | None = None
    infobip_base_url: str = "https://api.infobip.com"
    infobip_sms_sender: str = "M3CoreCRM"
    infobip_whatsapp_sender: str = ""
    infobip_webhook_secret: SecretStr | None = None

    @field_validator("auth_rate_limits")
    @classmethod
    def _every_auth_limit(cls, value: dict[str, str]) -> dict[str, str]:
        return {**AUTH_RATE_LIMITS, **value}

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        """In production, refuse to start with a development secret, a short one, or
        cookies sent over plain HTTP: the error names every offending variable."""
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError(
                    "refusing to start in production with insecure settings: " + "; ".join(problems)
                )
        return self


def production_problems(settings: Settings) -> list[str]:
    """What makes `settings` unfit for production (empty when fit), one phrase per
    environment variable."""
    problems: list[str] = []
    secrets = {
        "M3CRM_JWT_SECRET": (settings.jwt_secret, DEV_JWT_SECRET),
        "M3CRM_SECRETS_KEY": (settings.secrets_key, DEV_SECRETS_KEY),
        "M3CRM_NOTIFY_CREDENTIALS_KEY": (settings.notify_credentials_key, DEV_NOTIFY_KEY),
    }
    for name, (value, dev) in secrets.items():
        secret = value.get_secret_value()
        if secret == dev:
            problems.append(f"{name} is the development default")
        elif len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    if settings.app_db_password.get_secret_value() == DEV_APP_DB_PASSWORD:
        problems.append("M3CRM_APP_DB_PASSWORD is the development default")
    if not settings.cookie_secure:
        problems.append("M3CRM_COOKIE_SECURE must be true (cookies only over HTTPS)")
    return problems


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings (cached). Tests build their own `Settings` instead."""
    return Settings()
