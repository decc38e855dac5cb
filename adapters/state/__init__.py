"""State shared by every answering process: in memory by default, in Redis given a URL.

`SharedState` (base.py) is the interface; `MemoryState` (memory.py) keeps it in this process,
`RedisState` (redis.py) in Redis for several workers. `state_from_env()` picks one from
$POLICY_QA_REDIS_URL (and $POLICY_QA_REDIS_PREFIX)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adapters.state.base import (
    BURST,
    CONTEXT_TTL_SECONDS,
    DEDUP_TTL_SECONDS,
    MAX_CONTEXT_BYTES,
    PER_SECONDS,
    SharedState,
)
from adapters.state.memory import MemoryState
from assistant.errors import ConfigurationError

__all__ = [
    "BURST",
    "CONTEXT_TTL_SECONDS",
    "DEDUP_TTL_SECONDS",
    "MAX_CONTEXT_BYTES",
    "PER_SECONDS",
    "MemoryState",
    "SharedState",
    "state_from_env",
]

REDIS_URL, REDIS_PREFIX = "POLICY_QA_REDIS_URL", "POLICY_QA_REDIS_PREFIX"


def state_from_env(environ: Mapping[str, str] | None = None) -> SharedState:
    """A `RedisState` on $POLICY_QA_REDIS_URL, its keys under $POLICY_QA_REDIS_PREFIX (default
    `policy-qa:`), when the URL is set; else a `MemoryState`. Connects to nothing yet. Raises
    ConfigurationError for a URL that is not a Redis URL (without repeating it: it may hold a
    password)."""
    environ = os.environ if environ is None else environ
    url = environ.get(REDIS_URL, "").strip()
    if not url:
        return MemoryState()
    from adapters.state.redis import DEFAULT_PREFIX, RedisState  # imports redis only when used

    prefix = environ.get(REDIS_PREFIX) or DEFAULT_PREFIX
    try:
        return RedisState.from_url(url, prefix=prefix)
    except ValueError:
        raise ConfigurationError(
            f"{REDIS_URL} must be a Redis URL such as redis://host:6379/0 "
            "(or rediss:// for TLS, unix:///path/to/redis.sock)"
        ) from None
