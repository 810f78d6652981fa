"""The configuration contract: `.env.example` documents every setting (README), and
names only settings that exist. (Here rather than under tests/kernel because this
change was scoped to the notifications paths; it belongs with the settings tests.)"""

from __future__ import annotations

import re
from pathlib import Path

from m3crm.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def setting_names() -> set[str]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{field_name}".upper())
    return names


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    documented = set(ASSIGNMENT.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))
    expected = setting_names()
    assert sorted(expected - documented) == [], "settings missing from .env.example"
    assert sorted(documented - expected) == [], ".env.example names unknown settings"
