"""The tenant-scope lint (CONVENTIONS rule 1) finds `select(Model)` outside repositories."""

from __future__ import annotations

from pathlib import Path

from scripts.check_tenant_scope import main, offences


def test_flags_select_of_a_model(tmp_path: Path) -> None:
    bad = tmp_path / "service.py"
    bad.write_text("from x import select, Contact\nq = select(Contact).where(1)\n")
    assert offences(bad) == [f"{bad}:2: select(Contact...) outside a repository"]


def test_ignores_columns_and_lowercase(tmp_path: Path) -> None:
    ok = tmp_path / "service.py"
    ok.write_text("q = select(func.count())\nr = select(table_c)\n")
    assert offences(ok) == []


def test_the_source_tree_is_clean() -> None:
    assert main() == 0
