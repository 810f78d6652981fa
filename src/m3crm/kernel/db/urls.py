"""Connection URLs of the two database roles: the owner (migrations) and the app role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url

from m3crm.settings import Settings


@dataclass(frozen=True, slots=True)
class DatabaseUrls:
    """`owner` runs migrations and owns the tables; `app` carries all request and job
    traffic and is neither owner nor BYPASSRLS, so row-level security always applies."""

    owner: URL
    app: URL

    @property
    def app_libpq(self) -> str:
        """The app role's URL in libpq form (for psycopg and procrastinate)."""
        return libpq(self.app)

    @property
    def owner_libpq(self) -> str:
        return libpq(self.owner)


def libpq(url: URL) -> str:
    """Render an SQLAlchemy URL as a libpq connection string."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def resolve_urls(settings: Settings, owner_url: str | None = None) -> DatabaseUrls:
    """Build both URLs from `DATABASE_URL` (or the given owner URL, e.g. the embedded one).

    The app role connects to the same host and database with its own name and password.
    """
    raw = owner_url or settings.database_url
    if raw is None:
        raise RuntimeError("no database URL: start the embedded server or set DATABASE_URL")
    owner = make_url(raw).set(drivername="postgresql+psycopg")
    app = owner.set(
        username=settings.app_db_role,
        password=settings.app_db_password.get_secret_value(),
    )
    return DatabaseUrls(owner=owner, app=app)
