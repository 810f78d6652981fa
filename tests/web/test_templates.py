"""Static checks of every template: RTL-safe classes, and a catalog that is up to date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "src" / "m3crm").glob("**/templates/**/*.html"))
POT = ROOT / "src" / "m3crm" / "locale" / "messages.pot"

# Physical (left/right) utilities do not mirror in Arabic pages; each has a logical twin
# (ms-/me-, ps-/pe-, start-/end-, border-s/-e, rounded-s/-e, text-start/-end, float-start...).
PHYSICAL = re.compile(
    r"^(?:[\w\[\]&:-]*:)?-?(?:"
    r"m[lr]|p[lr]|left|right|scroll-m[lr]|scroll-p[lr]|border-[lr]|rounded-(?:[lr]|[tb][lr])"
    r")(?:-|$)"
    r"|^(?:[\w\[\]&:-]*:)?(?:text|float|clear)-(?:left|right)$"
)
STYLE_PHYSICAL = re.compile(
    r"\b(?:margin|padding|border)-(?:left|right)\b|(?<![\w-])(?:left|right)\s*:"
)
CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
STYLE_ATTR = re.compile(r'\bstyle="([^"]*)"')


def test_templates_exist() -> None:
    names = {p.name for p in TEMPLATES}
    assert {"base.html", "home.html", "error.html", "_error.html"} <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_physical_direction_utilities(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    classes = [c for attr in CLASS_ATTR.findall(text) for c in attr.split()]
    physical = [c for c in classes if PHYSICAL.search(c)]
    styles = [s for s in STYLE_ATTR.findall(text) if STYLE_PHYSICAL.search(s)]
    assert physical == [] and styles == []


def test_the_physical_pattern_catches_what_it_must() -> None:
    assert all(PHYSICAL.search(c) for c in ("ml-2", "pr-4", "-mr-1", "md:pl-3", "left-0"))
    assert all(PHYSICAL.search(c) for c in ("text-right", "rounded-l-lg", "border-r", "float-left"))
    assert not any(PHYSICAL.search(c) for c in ("ms-2", "pe-4", "start-0", "text-start", "mx-auto"))
    assert not any(PHYSICAL.search(c) for c in ("rounded-lg", "border-slate-200", "px-3", "py-1"))


def ids(path: Path) -> set[str]:
    with path.open("rb") as f:
        return {m.id for m in read_po(f) if isinstance(m.id, str) and m.id}


def test_catalog_template_is_up_to_date(tmp_path: Path) -> None:
    """Every `_()`/`N_()` string of the code is in messages.pot: run `make messages` if not."""
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "--omit-header",
         "--no-location", "-o", str(fresh), str(ROOT)]
    )  # fmt: skip
    extracted = ids(fresh)
    assert {"Page not found", "Skip to content"} <= extracted  # the extraction saw code
    assert extracted - ids(POT) == set()
