"""A human label for the device behind a session's user agent ("Chrome on Windows").

The label is derived on read from the stored raw user agent (which stays the record: the
parser's rules improve, the label follows). Browsers and systems are recognised by
`ua-parser` (the maintained uap-core rules); our own mobile apps identify themselves with a
product token `M3CoreCRM/<version>` at the start of their user agent, the platform in the
comment that follows (`M3CoreCRM/1.4 (iOS 17.1; iPhone14,2)`).

Labels are built from English patterns marked for translation; callers pass the gettext of
the reader's language (pages) or nothing (the API answers in English).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from ua_parser import parse

from m3crm.kernel.i18n import N_

APP_TOKEN = re.compile(r"^\s*M3CoreCRM/[\w.\-]+", re.IGNORECASE)

_APP_LABELS = {
    "iOS": N_("M3CoreCRM iOS app"),
    "Android": N_("M3CoreCRM Android app"),
}
_APP_LABEL = N_("M3CoreCRM app")
_BROWSER_ON_SYSTEM = N_("%(browser)s on %(system)s")
# Devices people name rather than their system ("Safari on iPhone", not "on iOS").
_NAMED_DEVICES = frozenset({"iPhone", "iPad", "iPod"})
_SYSTEM_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}


def _identity(message: str) -> str:
    return message


@lru_cache(maxsize=1024)
def _parts(user_agent: str) -> tuple[str | None, str | None, str | None]:
    """(app platform or "", browser, system) of a user agent; the parse is cached because
    the same few agents come back on every sessions page."""
    result = parse(user_agent)
    system = result.os.family if result.os else None
    if APP_TOKEN.match(user_agent):
        return (system or "", None, None)
    browser = _browser_name(result.user_agent.family) if result.user_agent else None
    device = result.device.family if result.device else None
    if device in _NAMED_DEVICES:
        system = device
    elif system is not None:
        system = _SYSTEM_NAMES.get(system, system)
    return (None, browser, system)


def _browser_name(family: str) -> str:
    """ "Mobile Safari" → "Safari", "Chrome Mobile" → "Chrome": the form a person knows."""
    name = family.split(" UI/")[0]
    words = [word for word in name.split() if word not in ("Mobile", "WebView")]
    return " ".join(words) or family


def device_label(user_agent: str | None, translate: Callable[[str], str] = _identity) -> str | None:
    """The device label of `user_agent`, or None when it says nothing recognisable
    (callers show their own "unknown device" and may offer the raw agent)."""
    if not user_agent or not user_agent.strip():
        return None
    app, browser, system = _parts(user_agent)
    if app is not None:
        return translate(_APP_LABELS.get(app, _APP_LABEL))
    if browser and system:
        return translate(_BROWSER_ON_SYSTEM) % {"browser": browser, "system": system}
    return browser or system
