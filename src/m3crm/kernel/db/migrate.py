"""Running the Alembic chain as the owner role."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from m3crm.settings import PROJECT_ROOT


def alembic_config(owner_url: URL) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option(
        "sqlalchemy.url", owner_url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(owner_url: URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)


def downgrade(owner_url: URL, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def head_revision(owner_url: URL) -> str | None:
    return ScriptDirectory.from_config(alembic_config(owner_url)).get_current_head()
