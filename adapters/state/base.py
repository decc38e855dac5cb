"""The state every answering process shares: events seen, each user's limit, each conversation."""

from __future__ import annotations

import abc
from typing import Any

__all__ = [
    "BURST",
    "CONTEXT_TTL_SECONDS",
    "DEDUP_TTL_SECONDS",
    "MAX_CONTEXT_BYTES",
    "PER_SECONDS",
    "SharedState",
]

BURST, PER_SECONDS = 5, 10.0  # a user may ask 5 questions at once, then one every 10 s
DEDUP_TTL_SECONDS = 600.0  # Slack re-delivers within minutes; ten is a wide margin
CONTEXT_TTL_SECONDS = 3600.0  # a follow-up an hour later starts a new conversation
MAX_CONTEXT_BYTES = 16_384  # a context is a small record (a question, a few citations)


class SharedState(abc.ABC):
    """What an adapter remembers between events, whichever process handles them.

    Three things, each behind one call, each forgotten after a while:

    - `first_time(key)`: True the first time `key` is seen within the dedup TTL (an event id, a
      channel and timestamp pair), False after; atomic, so of two processes seeing the same key at
      once exactly one gets True.
    - `rate_limit(user)`: counts one question against `user`'s token bucket (BURST at once, then
      one every PER_SECONDS) and returns 0.0 when it may be answered now, else the seconds until
      the user may ask again (a refused question is not counted).
    - `put_context(key, record, ttl)` / `get_context(key)`: a small JSON-able record per
      conversation (a Slack thread or DM, a Discord channel or thread), for follow-up questions.

    Keys are the caller's strings, namespaced by platform (`slack:event:Ev123`). `MemoryState`
    keeps them in this process (one process: the default); `RedisState` in Redis, shared by every
    worker, falling back to its own memory for as long as Redis cannot be reached. The methods
    never raise because a store is unreachable: dedup, limits and context then degrade to what
    one process knows, and answers still go out. `state_from_env()` picks one.
    """

    @abc.abstractmethod
    async def first_time(self, key: str) -> bool:
        """True once per `key` within the dedup TTL."""

    @abc.abstractmethod
    async def rate_limit(self, user: str) -> float:
        """0.0 if `user` may ask now (and counts it), else the seconds until they may."""

    @abc.abstractmethod
    async def put_context(
        self, key: str, record: dict[str, Any], ttl_seconds: float = CONTEXT_TTL_SECONDS
    ) -> None:
        """Keep `record` (JSON-able, at most MAX_CONTEXT_BYTES as JSON) for `ttl_seconds`,
        replacing the one kept under `key`. Raises TypeError or ValueError for a record that is
        not JSON-able or too large: that is the caller's bug, not an outage."""

    @abc.abstractmethod
    async def get_context(self, key: str) -> dict[str, Any] | None:
        """The record kept under `key`, or None when there is none (or it expired)."""

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to let go of
        """Let go of connections; the state is not used after this."""
