"""Hashed asset URLs from the build manifest (`make assets` writes it)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DIST = Path(__file__).resolve().parent / "static" / "dist"


@lru_cache(maxsize=1)
def _manifest() -> dict[str, str]:
    path = DIST / "manifest.json"
    if not path.exists():
        raise RuntimeError("web assets are not built: run `make assets`")
    manifest: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def asset_url(name: str) -> str:
    """`/static/dist/<name with content hash>`; the hash changes when the file does."""
    return f"/static/dist/{_manifest()[name]}"
