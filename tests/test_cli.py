"""The `m3crm` command: migrate and seed are idempotent on an external database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from m3crm.cli import cli
from m3crm.kernel.tokens import verify_access_token
from m3crm.settings import get_settings
from tests.harness import fresh_database


def test_migrate_then_seed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database("m3crm_cli"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        migrated = runner.invoke(cli, ["migrate"])
        assert migrated.exit_code == 0, migrated.output
        assert "database at head" in migrated.output
        first = runner.invoke(cli, ["seed"])
        assert first.exit_code == 0, first.output
        assert "demo agency created" in first.output
        second = runner.invoke(cli, ["seed"])
        assert "demo agency already present" in second.output
        token = runner.invoke(cli, ["dev-token", "agent.layla@demo.m3crm.test"])
        assert token.exit_code == 0, token.output
        claims = verify_access_token(get_settings(), token.output.strip())
        unknown = runner.invoke(cli, ["dev-token", "nobody@demo.m3crm.test"])
        assert unknown.exit_code != 0
        assert claims.user_id is not None
        moved = runner.invoke(cli, ["plan-set", "demo", "DevFree"])
        assert moved.exit_code == 0, moved.output
        assert "demo: DevPro -> DevFree" in moved.output
        again = runner.invoke(cli, ["plan-set", "demo", "DevFree"])
        assert "already on DevFree" in again.output
        assert runner.invoke(cli, ["plan-set", "demo", "Gold"]).exit_code != 0
        assert runner.invoke(cli, ["plan-set", "nowhere", "DevPro"]).exit_code != 0
    finally:
        get_settings.cache_clear()
