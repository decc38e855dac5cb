"""Shared state kept in this process: exactly what one process did before there were several."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from adapters.limits import PerUserRateLimiter, SeenRecently
from adapters.state.base import (
    BURST,
    CONTEXT_TTL_SECONDS,
    DEDUP_TTL_SECONDS,
    MAX_CONTEXT_BYTES,
    PER_SECONDS,
    SharedState,
)

__all__ = ["MemoryState", "encode_context"]


def encode_context(record: dict[str, Any]) -> str:
    """`record` as compact JSON, or TypeError/ValueError when it is not a small JSON object."""
    if not isinstance(record, dict):
        raise TypeError(f"a context is a dict, not {type(record).__name__}")
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(text.encode("utf-8")) > MAX_CONTEXT_BYTES:
        raise ValueError(f"a context must be at most {MAX_CONTEXT_BYTES} bytes as JSON")
    return text


class MemoryState(SharedState):
    """`SharedState` in this process's memory: adapters/limits.py's token bucket and event memory,
    and a context store of the same shape (least recently written forgotten past `max_contexts`).
    Right for one process; with several, each would answer a re-delivered event and grant its own
    burst. `limiter` lets a caller bring its own bucket settings (tests do)."""

    def __init__(
        self,
        *,
        limiter: PerUserRateLimiter | None = None,
        dedup_ttl_seconds: float = DEDUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        max_contexts: int = 10_000,
    ) -> None:
        self.limiter = limiter or PerUserRateLimiter(BURST, PER_SECONDS, clock)
        self.seen = SeenRecently(dedup_ttl_seconds, clock, max_keys)
        self.clock, self.max_contexts = clock, max_contexts
        self._contexts: OrderedDict[str, tuple[float, str]] = OrderedDict()  # key: (expires, json)

    async def first_time(self, key: str) -> bool:
        return self.seen.first_time(key)

    async def rate_limit(self, user: str) -> float:
        if self.limiter.allow(user):
            return 0.0
        # never 0.0 for a refusal, however close the next token is
        return max(self.limiter.retry_after(user), 1e-3)

    async def put_context(
        self, key: str, record: dict[str, Any], ttl_seconds: float = CONTEXT_TTL_SECONDS
    ) -> None:
        text = encode_context(record)
        self._contexts.pop(key, None)
        self._contexts[key] = (self.clock() + ttl_seconds, text)
        while len(self._contexts) > self.max_contexts:
            self._contexts.popitem(last=False)

    async def get_context(self, key: str) -> dict[str, Any] | None:
        kept = self._contexts.get(key)
        if kept is None:
            return None
        expires, text = kept
        if self.clock() >= expires:
            del self._contexts[key]
            return None
        record: dict[str, Any] = json.loads(text)  # a copy: the caller may change it freely
        return record
