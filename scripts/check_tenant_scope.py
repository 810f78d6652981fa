"""CONVENTIONS rule 1: `select(<Model>)` only in repositories (and the kernel).

Walks `src/m3crm/modules/**.py` with `ast` and fails on a call `select(Name, ...)` whose
first argument is a capitalised name (a mapped class) outside a `repository*.py` file.
Exit code 1 lists every offending place.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "m3crm"


def offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "select"
            and node.args
        ):
            first = node.args[0]
            name = (
                first.value.id
                if isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name)
                else first.id
                if isinstance(first, ast.Name)
                else None
            )
            if name and name[:1].isupper():
                found.append(f"{path}:{node.lineno}: select({name}...) outside a repository")
    return found


def main() -> int:
    problems: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "kernel" or path.name.startswith("repository"):
            continue
        problems += offences(path)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
