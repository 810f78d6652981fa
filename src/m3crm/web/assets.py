"""Hashed asset URLs from the build manifest (`make assets` writes it)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DIST = Path(__file__).resolve().parent / "static" / "dist"


class AssetsNotBuilt(RuntimeError):
    """The manifest is missing or lacks a name: the front-end build did not run."""


@lru_cache(maxsize=1)
def _manifest() -> dict[str, str]:
    """The manifest, read once per process (a rebuild needs a restart to be seen)."""
    path = DIST / "manifest.json"
    if not path.exists():
        raise AssetsNotBuilt(f"web assets are not built ({path} is missing): run `make assets`")
    manifest: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def asset_url(name: str) -> str:
    """`/static/dist/<file with content hash>` for a logical name such as `"app.css"`.

    The hash changes whenever the file does, so the URL can be cached forever.
    """
    try:
        return f"/static/dist/{_manifest()[name]}"
    except KeyError:
        raise AssetsNotBuilt(f"{name!r} is not in the asset manifest: run `make assets`") from None
