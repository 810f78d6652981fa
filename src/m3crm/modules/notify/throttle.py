"""Per-tenant, per-channel sends per minute (spec §2.11); over it dispatch answers 429."""

from __future__ import annotations

from collections.abc import Mapping

from limits import RateLimitItem, RateLimitItemPerMinute

from m3crm.kernel.ids import TenantId
from m3crm.kernel.ratelimit import RateLimiter
from m3crm.modules.notify.models import Channel


class Throttle:
    """Counts dispatches in the process's rate-limit storage (Redis when configured,
    so every web process shares one count)."""

    def __init__(self, limiter: RateLimiter, per_minute: Mapping[str, int]) -> None:
        self.limiter = limiter
        self.items: dict[str, RateLimitItem] = {
            channel: RateLimitItemPerMinute(amount) for channel, amount in per_minute.items()
        }

    async def hit(self, tenant_id: TenantId, channel: Channel) -> None:
        item = self.items.get(channel.value)
        if item is not None:
            await self.limiter.hit(item, f"notify.{channel.value}", str(tenant_id))


class NoThrottle(Throttle):
    """For the system's own notices (run results), which no tenant quota should drop."""

    def __init__(self) -> None:
        self.items = {}

    async def hit(self, tenant_id: TenantId, channel: Channel) -> None:
        return None
