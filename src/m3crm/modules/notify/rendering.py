"""Rendering templates with a payload, and checking their variables.

Templates are Jinja2 in a sandbox: they can read the payload, never call into Python.
A template's `variables` maps each name to `{"required": bool, "description": str}`;
a body may use only declared names (checked when a template is saved), and a dispatch
must supply every required one (checked before anything is queued).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_

_text = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_html = SandboxedEnvironment(autoescape=True)

INBOX_FALLBACK_LIMIT = 140


@lru_cache(maxsize=1024)
def _compiled(source: str, *, escape_html: bool) -> Template:
    """A template compiled once per process and reused (compiling costs far more than
    rendering). Keyed by the source text itself, so an edited template is a new entry and
    a stale one can never be served; the bound keeps memory flat."""
    return (_html if escape_html else _text).from_string(source)


@dataclass(frozen=True, slots=True)
class RenderedContent:
    subject: str | None
    text: str
    html: str | None

    def as_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "text": self.text, "html": self.html}


def required_variables(variables: Mapping[str, Any]) -> set[str]:
    return {name for name, spec in variables.items() if dict(spec).get("required", True)}


def missing_variables(variables: Mapping[str, Any], payload: Mapping[str, Any]) -> list[str]:
    return sorted(name for name in required_variables(variables) if payload.get(name) in (None, ""))


def undeclared_variables(
    sources: Iterable[str | None], variables: Mapping[str, Any]
) -> dict[str, str]:
    """Field errors for bodies that do not parse or use names not declared."""
    errors: dict[str, str] = {}
    used: set[str] = set()
    for source in sources:
        if not source:
            continue
        try:
            used |= meta.find_undeclared_variables(_text.parse(source))
        except TemplateSyntaxError as exc:
            errors["body"] = N_("The template does not parse: ") + str(exc.message)
    unknown = sorted(used - set(variables))
    if unknown:
        errors["variables"] = N_("Declare these variables: ") + ", ".join(unknown)
    return errors


def render(
    *, subject: str | None, body: str, body_html: str | None, payload: Mapping[str, Any]
) -> RenderedContent:
    """Render all parts; an HTML part is derived from the text when the template has none."""
    values = dict(payload)
    text = _compiled(body, escape_html=False).render(values)
    rendered_html = (
        _compiled(body_html, escape_html=True).render(values)
        if body_html
        else "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"
    )
    return RenderedContent(
        subject=_compiled(subject, escape_html=False).render(values) if subject else None,
        text=text,
        html=rendered_html,
    )


def require_variables(variables: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    missing = missing_variables(variables, payload)
    if missing:
        raise ValidationFailed(
            {f"payload.{name}": N_("This variable is required.") for name in missing},
            message=N_("The template needs variables that were not given."),
        )


def inbox_fallback(text: str, title: str) -> RenderedContent:
    """The auto-generated inbox entry of a family without an inbox template (§6)."""
    flat = " ".join(text.split())
    if len(flat) > INBOX_FALLBACK_LIMIT:
        flat = flat[: INBOX_FALLBACK_LIMIT - 1].rstrip() + "…"
    return RenderedContent(subject=title, text=flat, html=None)
