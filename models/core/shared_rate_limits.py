"""Rate-limit counters in the database, so that several instances count together.

One instance keeps its rate limits in memory (the `limits` library's moving window). With
`[cluster] enabled` every instance serves the REST API and the web forms behind one load
balancer, and counters in each process's memory let a client make N times the calls. This is a
storage for the `limits` library's sliding window counter strategy (the strategy's rule stays
the library's): two counters per key, the current window and the previous one, weighted by
how much of the previous window the moving minute still covers. Each counter is a row of
`rate_counter`, changed with one upsert, so two instances counting the same call at once
both count it.
"""

from __future__ import annotations

import itertools
import math
import time

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.storage.base import SlidingWindowCounterSupport
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from tortoise.exceptions import BaseORMException
from tortoise.expressions import F

from models.core.sql import Sql
from models.schema.sessions import RateCounter

# Expired counters are deleted by one of this many increments.
_SWEEP_EVERY = 200


class DatabaseStorage(Storage, SlidingWindowCounterSupport):
    """The `limits` storage over the `rate_counter` table (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["centralita+database"]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._increments = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (BaseORMException, OSError)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to a counter; an expired or new one starts again for `expiry` s."""
        now = time.time()
        sql = Sql()
        new_key, count, until, at = sql.p(key), sql.p(amount), sql.p(now + expiry), sql.p(now)
        rows = await sql.conn.execute_query_dict(
            'INSERT INTO rate_counter ("key", "count", expires_at) '
            f"VALUES ({new_key}, {count}, {until}) "
            'ON CONFLICT ("key") DO UPDATE SET '
            f'"count" = CASE WHEN rate_counter.expires_at <= {at} THEN {count} '
            f'ELSE rate_counter."count" + {count} END, '
            f"expires_at = CASE WHEN rate_counter.expires_at <= {at} THEN {until} "
            "ELSE rate_counter.expires_at END "
            'RETURNING "count"',
            sql.params,
        )
        if next(self._increments) % _SWEEP_EVERY == 0:
            await RateCounter.filter(expires_at__lt=now).delete()
        return int(rows[0]["count"])

    async def get(self, key: str) -> int:
        row = await RateCounter.filter(key=key, expires_at__gt=time.time()).first()
        return row.count if row else 0

    async def get_expiry(self, key: str) -> float:
        row = await RateCounter.filter(key=key).only("id", "expires_at").first()
        return row.expires_at if row else time.time()

    async def check(self) -> bool:
        await RateCounter.exists()
        return True

    async def reset(self) -> int | None:
        return await RateCounter.all().delete()

    async def clear(self, key: str) -> None:
        await RateCounter.filter(key=key).delete()

    # -- the sliding window counter (as the library's memory storage computes it) --------

    def _keys(self, key: str, expiry: int, now: float) -> tuple[str, str]:
        window = int(now // expiry)
        return f"{key}/{window - 1}", f"{key}/{window}"

    async def _window(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self._keys(key, expiry, now)
        counts = {
            row.key: row.count
            for row in await RateCounter.filter(
                key__in=[previous_key, current_key], expires_at__gt=now
            )
        }
        previous, current = counts.get(previous_key, 0), counts.get(current_key, 0)
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        previous, previous_ttl, current, _ = await self._window(key, expiry, now)
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        _, current_key = self._keys(key, expiry, now)
        current = await self.incr(current_key, 2 * expiry, amount)
        if math.floor(previous * previous_ttl / expiry + current) > limit:
            # Another instance counted a call in between: this one is refused, and taken back.
            await RateCounter.filter(key=current_key).update(count=F("count") - amount)
            return False
        return True

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        return await self._window(key, expiry, time.time())

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self._keys(key, expiry, time.time())
        await RateCounter.filter(key__in=[previous_key, current_key]).delete()


Limiter = MovingWindowRateLimiter | SlidingWindowCounterRateLimiter


async def seconds_to_wait(limiter: Limiter, item: RateLimitItem, *ids: str) -> int:
    """Count one hit of `item` for `ids`: 0 when it may go on, else the whole seconds until
    the window lets the next one in (at least 1), for a `Retry-After`."""
    if await limiter.hit(item, *ids):
        return 0
    stats = await limiter.get_window_stats(item, *ids)
    return max(1, math.ceil(stats.reset_time - time.time()))


def limiter(*, shared: bool) -> Limiter:
    """The limiter of a rate limit: in this process's memory (a moving window), or `shared`
    with the other instances through the database (a sliding window counter)."""
    if shared:
        return SlidingWindowCounterRateLimiter(DatabaseStorage())
    return MovingWindowRateLimiter(MemoryStorage())
