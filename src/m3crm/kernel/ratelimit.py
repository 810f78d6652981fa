"""Rate limits (the `limits` library): memory by default, Redis when `REDIS_URL` is set.

Three keys: per client IP (every request), per user and per tenant (authenticated
requests). Exceeding any answers 429 `RATE_LIMIT` with `Retry-After`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from m3crm.kernel.errors import RateLimited
from m3crm.settings import Settings


@dataclass(frozen=True, slots=True)
class RateLimits:
    per_ip: RateLimitItem
    per_user: RateLimitItem
    per_tenant: RateLimitItem


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        storage = (
            storage_from_string(f"async+{settings.redis_url}")
            if settings.redis_url
            else MemoryStorage()
        )
        assert isinstance(storage, Storage)
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.limits = RateLimits(
            per_ip=parse(settings.rate_limit_ip),
            per_user=parse(settings.rate_limit_user),
            per_tenant=parse(settings.rate_limit_tenant),
        )

    async def hit(self, item: RateLimitItem, scope: str, key: str) -> None:
        """Count one hit; raise `RateLimited` (with seconds to wait) when over."""
        if await self.limiter.hit(item, scope, key):
            return
        stats = await self.limiter.get_window_stats(item, scope, key)
        raise RateLimited(max(1, int(stats.reset_time - time.time()) + 1))

    async def hit_ip(self, ip: str) -> None:
        await self.hit(self.limits.per_ip, "ip", ip)

    async def hit_subject(self, tenant_id: str, user_id: str) -> None:
        await self.hit(self.limits.per_user, "user", user_id)
        await self.hit(self.limits.per_tenant, "tenant", tenant_id)
