"""Per-tenant, per-channel sends per minute (spec §2.8, §2.11); over it dispatch answers
429 `RATE_LIMIT` with `Retry-After`.

The allowance is an entitlement like the monthly caps: `<channel>.perMinute` in the
plan catalog, so a workspace's value comes from its plan and can be raised or lowered
by an entitlement override (plan < workspace < group < person, as for every limit). The
count is the workspace's: every send of the channel in the current minute, whoever sent
it, compared with the sender's allowance (the way monthly caps compare the workspace's
usage). An absent allowance is 0, as for every limit.

Counts live in the process's rate-limit storage (Redis when configured, so every web
process shares one count; memory otherwise), in fixed one-minute windows.
"""

from __future__ import annotations

import time
from typing import Final

from m3crm.kernel.entitlements import Entitlements
from m3crm.kernel.errors import RateLimited
from m3crm.kernel.ids import TenantId
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.modules.notify.models import Channel

PER_MINUTE_KEYS: Final[dict[Channel, str]] = {
    Channel.EMAIL: "email.perMinute",
    Channel.SMS: "sms.perMinute",
    Channel.WHATSAPP: "whatsapp.perMinute",
}
"""The throttled channels and their limit keys; the in-app inbox is not throttled."""

_WINDOW_SECONDS: Final[int] = 60


class Throttle:
    """Counts a workspace's sends per channel and minute."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def hit(self, tenant_id: TenantId, channel: Channel, entitlements: Entitlements) -> None:
        """Count one send; raise `RateLimited` when the minute's count passes the
        sender's allowance (the refused attempt counts too, as in every rate limit)."""
        key = PER_MINUTE_KEYS.get(channel)
        if key is None:
            return
        now = time.time()
        window = int(now // _WINDOW_SECONDS)
        counter = f"notify/{channel.value}/{tenant_id}/{window}"
        count = await self.limiter.storage.incr(counter, _WINDOW_SECONDS * 2)
        if count > entitlements.limits.get(key, 0):
            raise RateLimited(max(1, _WINDOW_SECONDS - int(now) % _WINDOW_SECONDS))


class NoThrottle(Throttle):
    """For the system's own notices (run results), which no tenant quota should drop."""

    def __init__(self) -> None:
        return None

    async def hit(self, tenant_id: TenantId, channel: Channel, entitlements: Entitlements) -> None:
        return None
