"""Guards every chat adapter needs: a per-user rate limit and a short-lived memory of events seen."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class PerUserRateLimiter:
    """A token bucket per user: `burst` questions at once, then one every `per_seconds`.

    One user's flood spends only that user's bucket, so others are never starved."""

    def __init__(
        self,
        burst: int = 5,
        per_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self.burst, self.per_seconds, self.clock, self.max_users = (
            burst,
            per_seconds,
            clock,
            max_users,
        )
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def allow(self, user: Hashable) -> bool:
        now = self.clock()
        tokens, last = self._buckets.pop(user, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) / self.per_seconds)
        allowed = tokens >= 1.0
        self._buckets[user] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_users:
            self._buckets.popitem(last=False)  # forget the least recently seen user
        return allowed

    def retry_after(self, user: Hashable) -> float:
        """Seconds until `user` may ask again (0 when they may now)."""
        tokens, last = self._buckets.get(user, (float(self.burst), self.clock()))
        tokens = min(float(self.burst), tokens + (self.clock() - last) / self.per_seconds)
        return max(0.0, (1.0 - tokens) * self.per_seconds)


class SeenRecently:
    """Remembers keys for `ttl_seconds`: `first_time(key)` is True once per key in that window."""

    def __init__(
        self,
        ttl_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.ttl, self.clock, self.max_keys = ttl_seconds, clock, max_keys
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def first_time(self, key: Hashable) -> bool:
        now = self.clock()
        while self._seen and (
            next(iter(self._seen.values())) < now - self.ttl or len(self._seen) > self.max_keys
        ):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True
