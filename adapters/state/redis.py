"""Shared state in Redis: every worker sees the same events, limits and conversations."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from adapters.limits import PerUserRateLimiter
from adapters.state.base import (
    BURST,
    CONTEXT_TTL_SECONDS,
    DEDUP_TTL_SECONDS,
    PER_SECONDS,
    SharedState,
)
from adapters.state.memory import MemoryState, encode_context

__all__ = ["CONNECT_TIMEOUT", "DEFAULT_PREFIX", "SOCKET_TIMEOUT", "RedisState"]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PREFIX = "policy-qa:"
# Redis on the same network answers in well under a millisecond, so a call that takes longer than
# this is a Redis in trouble (a dead host whose packets vanish, swapping, a slow command blocking
# it), not a slow one. Nothing waits on it for the ack (events are acknowledged before they are
# deduplicated, /ask before it is limited), but every answer would: better to answer from this
# worker's memory after a quarter or half a second than to keep a user waiting for Redis.
CONNECT_TIMEOUT, SOCKET_TIMEOUT = 0.25, 0.5
RETRY_SECONDS = 1.0  # after a failure, calls go straight to memory this long, then try Redis
WARN_EVERY_SECONDS = 60.0

# A token bucket per user, read and written in one step (a script runs atomically in Redis), on
# Redis's clock so that workers whose clocks differ still agree. Same arithmetic as
# adapters.limits.PerUserRateLimiter: up to `burst` tokens, one more every `per` seconds; a
# question takes one; a refusal takes none and says how long until the next. The key expires
# once the bucket would be full again, which is the same as no key.
_TOKEN_BUCKET = """
local burst, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local kept = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(kept[1]), tonumber(kept[2])
if tokens == nil or at == nil then
  tokens, at = burst, now
end
tokens = math.min(burst, tokens + math.max(0, now - at) / per)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) * per
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * per * 1000))
return tostring(wait)
"""


class RedisState(SharedState):
    """`SharedState` in Redis, for several workers (processes, hosts) answering for one app.

    - dedup: `SET prefix+seen:key 1 NX PX ttl`, so exactly one worker sees a key first;
    - the rate limit: a token bucket per user in one Lua script (atomic; Redis's clock);
    - context: `SET prefix+context:key json PX ttl` / `GET`.
    Every key expires. `prefix` keeps several apps (or test runs) apart in one Redis.

    When Redis cannot be reached or does not answer in time (`connect_timeout`,
    `socket_timeout`), the call is answered from this worker's own memory (a `MemoryState`), and
    so is every call for the next `retry_seconds`, after which Redis is tried again: a dead Redis
    costs one short wait a second per worker, not one per event. A WARNING says so, at most once
    a minute while it lasts, and an INFO line when Redis is back. Meanwhile dedup and limits hold
    per worker only: a re-delivered event that reaches another worker may be answered twice.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        burst: int = BURST,
        per_seconds: float = PER_SECONDS,
        dedup_ttl_seconds: float = DEDUP_TTL_SECONDS,
        deadline_seconds: float = CONNECT_TIMEOUT + SOCKET_TIMEOUT,
        retry_seconds: float = RETRY_SECONDS,
        warn_every_seconds: float = WARN_EVERY_SECONDS,
        where: str = "Redis",
    ) -> None:
        self.client, self.prefix, self.where = client, prefix, where
        self.burst, self.per_seconds, self.dedup_ttl_seconds = burst, per_seconds, dedup_ttl_seconds
        self.deadline_seconds, self.retry_seconds = deadline_seconds, retry_seconds
        self.warn_every_seconds = warn_every_seconds
        self.fallback = MemoryState(
            limiter=PerUserRateLimiter(burst, per_seconds), dedup_ttl_seconds=dedup_ttl_seconds
        )
        self.in_memory = 0  # calls answered from memory since Redis last answered
        self._bucket = client.register_script(_TOKEN_BUCKET)
        self._skip_until = -math.inf
        self._warned_at = -math.inf

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        socket_timeout: float = SOCKET_TIMEOUT,
        **options: Any,
    ) -> RedisState:
        """A state on the Redis at `url` (redis://[:password@]host:port/db, rediss:// for TLS,
        unix:///path). Raises ValueError for a URL that is not one. No connection is made yet."""
        client = aioredis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),  # no retries: the fallback is the retry
            decode_responses=True,
        )
        kwargs = client.connection_pool.connection_kwargs
        address = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        where = f"Redis at {address}"  # never the URL itself: it may hold a password
        return cls(
            client,
            deadline_seconds=connect_timeout + socket_timeout + 0.1,
            where=where,
            **options,
        )

    async def first_time(self, key: str) -> bool:
        async def shared() -> bool:
            ttl_ms = max(1, round(self.dedup_ttl_seconds * 1000))
            return bool(await self.client.set(self.prefix + "seen:" + key, "1", nx=True, px=ttl_ms))

        return await self._shared(shared, lambda: self.fallback.first_time(key))

    async def rate_limit(self, user: str) -> float:
        async def shared() -> float:
            keys = [self.prefix + "rate:" + user]
            args: list[str | int] = [self.burst, repr(self.per_seconds)]
            wait = float(await self._bucket(keys=keys, args=args))
            return max(wait, 1e-3) if wait > 0 else 0.0

        return await self._shared(shared, lambda: self.fallback.rate_limit(user))

    async def put_context(
        self, key: str, record: dict[str, Any], ttl_seconds: float = CONTEXT_TTL_SECONDS
    ) -> None:
        text = encode_context(record)  # the caller's mistake raises here, outage or not

        async def shared() -> None:
            px = max(1, round(ttl_seconds * 1000))
            await self.client.set(self.prefix + "context:" + key, text, px=px)

        await self._shared(shared, lambda: self.fallback.put_context(key, record, ttl_seconds))

    async def get_context(self, key: str) -> dict[str, Any] | None:
        async def shared() -> dict[str, Any] | None:
            text = await self.client.get(self.prefix + "context:" + key)
            return None if text is None else dict(json.loads(text))

        return await self._shared(shared, lambda: self.fallback.get_context(key))

    async def close(self) -> None:
        await self.client.aclose()

    async def _shared(
        self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        if time.monotonic() < self._skip_until:
            self.in_memory += 1
            return await local()
        try:
            # socket timeouts bound each read and connect; this bounds the whole call (a name
            # lookup, a connect, then a read), so the event loop's other work never waits long
            async with asyncio.timeout(self.deadline_seconds):
                result = await shared()
        except (RedisError, OSError, TimeoutError) as e:
            self._unreachable(e)
            return await local()
        if self.in_memory:
            log.info("%s answers again (%d calls used this worker's memory meanwhile)",
                     self.where, self.in_memory)  # fmt: skip
            self.in_memory, self._warned_at = 0, -math.inf
        return result

    def _unreachable(self, error: BaseException) -> None:
        now = time.monotonic()
        self._skip_until = now + self.retry_seconds
        self.in_memory += 1
        if now - self._warned_at >= self.warn_every_seconds:
            self._warned_at = now
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            log.warning("%s cannot be reached (%s); deduplicating and rate limiting in this "
                        "worker's memory until it answers (%d calls so far)",
                        self.where, reason, self.in_memory)  # fmt: skip
