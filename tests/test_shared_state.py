"""adapters.state: the same cases on every backend (memory, a real redis-server), then what only
a shared store can do (two workers, one truth) and Redis going away."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.limits import PerUserRateLimiter
from adapters.state import MemoryState, SharedState, state_from_env
from adapters.state.redis import RedisState
from assistant.errors import ConfigurationError
from tests.redis_server import RedisServer, own_redis, redis_url, unique_prefix

session_loop = pytest.mark.asyncio(loop_scope="session")
PER = 0.4  # seconds per token in these tests: short enough to wait for


@pytest.fixture(scope="session")
def redis() -> Iterator[str]:
    yield from redis_url()


@pytest.fixture
def own() -> Iterator[RedisServer]:
    yield from own_redis()


Make = Callable[..., SharedState]


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Make]:
    """make(ttl=..., per=...) -> a fresh state of the backend under test; every state made by one
    test shares its keys (as workers do), apart from every other test's."""
    made: list[SharedState] = []
    prefix = unique_prefix()

    def memory(ttl: float = 600.0, per: float = PER) -> SharedState:
        return MemoryState(limiter=PerUserRateLimiter(5, per), dedup_ttl_seconds=ttl)

    def redis_state(ttl: float = 600.0, per: float = PER) -> SharedState:
        url = request.getfixturevalue("redis")
        state = RedisState.from_url(url, prefix=prefix, per_seconds=per, dedup_ttl_seconds=ttl)
        made.append(state)
        return state

    yield memory if request.param == "memory" else redis_state
    for state in made:
        await state.close()


# --- the same cases on each backend -----------------------------------------------------------


@session_loop
async def test_a_key_is_new_once_within_its_ttl(make: Make) -> None:
    state = make(ttl=0.5)
    assert await state.first_time("slack:event:Ev1") is True
    assert await state.first_time("slack:event:Ev1") is False
    assert await state.first_time("slack:event:Ev2") is True
    await asyncio.sleep(0.6)
    assert await state.first_time("slack:event:Ev1") is True  # forgotten after the TTL


@session_loop
async def test_a_key_seen_at_once_many_times_is_new_exactly_once(make: Make) -> None:
    state = make()
    seen = await asyncio.gather(*(state.first_time("slack:post:C1:1.2") for _ in range(20)))
    assert seen.count(True) == 1


@session_loop
async def test_burst_of_five_then_one_every_period(make: Make) -> None:
    state = make(per=PER)
    waits = [await state.rate_limit("U1") for _ in range(5)]
    assert waits == [0.0] * 5
    refused = await state.rate_limit("U1")
    assert 0.8 * PER < refused <= PER  # a whole token to wait for, less what trickled in
    assert await state.rate_limit("U2") == 0.0  # one user's flood is theirs alone
    await asyncio.sleep(refused + 0.05)
    assert await state.rate_limit("U1") == 0.0
    assert await state.rate_limit("U1") > 0.0  # one token came back, not the burst


@session_loop
async def test_a_refused_question_is_not_counted(make: Make) -> None:
    state = make(per=PER)
    for _ in range(5):
        await state.rate_limit("U1")
    for _ in range(10):  # asking again and again while limited does not push the wait out
        await state.rate_limit("U1")
    await asyncio.sleep(PER + 0.05)
    assert await state.rate_limit("U1") == 0.0


@session_loop
async def test_the_limit_matches_today_s_limiter(make: Make) -> None:
    """Step by step, the backend and adapters.limits.PerUserRateLimiter agree (allowed or not)."""
    state, reference = make(per=PER), PerUserRateLimiter(5, PER)
    for pause in [0, 0, 0, 0, 0, 0, 0.25, 0.25, 0, 0.5, 0, 0, 0.1]:
        await asyncio.sleep(pause)
        assert (await state.rate_limit("U1") == 0.0) == reference.allow("U1"), pause


@session_loop
async def test_context_is_kept_replaced_and_forgotten(make: Make) -> None:
    state = make()
    record = {"question": "Why was Kaspersky banned? ✓", "user": "U1", "cited": [["a.md", 1, 9]]}
    assert await state.get_context("slack:thread:C1:1.2") is None
    await state.put_context("slack:thread:C1:1.2", record, ttl_seconds=0.5)
    got = await state.get_context("slack:thread:C1:1.2")
    assert got == record and got is not record
    got["question"] = "changed by the caller"
    assert await state.get_context("slack:thread:C1:1.2") == record
    await state.put_context("slack:thread:C1:1.2", {"question": "next"}, ttl_seconds=0.5)
    assert await state.get_context("slack:thread:C1:1.2") == {"question": "next"}
    await asyncio.sleep(0.6)
    assert await state.get_context("slack:thread:C1:1.2") is None


@session_loop
@pytest.mark.parametrize(
    "record, error",
    [
        ({"at": object()}, TypeError),
        ({"x": math.nan}, ValueError),
        ({"big": "x" * 20_000}, ValueError),
        (["not", "a", "dict"], TypeError),
    ],  # fmt: skip
)
async def test_a_context_that_is_not_small_json_is_refused(
    make: Make, record: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await make().put_context("k", record)


# --- what a shared store does for several workers -----------------------------------------------


@pytest.fixture
async def two_workers(redis: str) -> AsyncIterator[tuple[RedisState, RedisState]]:
    """Two states with their own connections and one prefix: two workers of one app."""
    prefix = unique_prefix()
    a, b = (RedisState.from_url(redis, prefix=prefix, per_seconds=PER) for _ in range(2))
    yield a, b
    await a.close()
    await b.close()


@session_loop
async def test_workers_share_dedup_limits_and_context(
    two_workers: tuple[RedisState, RedisState],
) -> None:
    a, b = two_workers
    seen = await asyncio.gather(*(w.first_time("slack:event:EvX") for w in (a, b, a, b, a, b)))
    assert seen.count(True) == 1
    waits = [await w.rate_limit("U1") for w in (a, b, a, b, a)]
    assert waits == [0.0] * 5
    assert await b.rate_limit("U1") > 0 and await a.rate_limit("U1") > 0  # the 6th, either one
    await a.put_context("slack:thread:C1:1.2", {"question": "Why was Kaspersky banned?"})
    assert await b.get_context("slack:thread:C1:1.2") == {"question": "Why was Kaspersky banned?"}


@session_loop
async def test_prefixes_keep_apps_apart(redis: str) -> None:
    a = RedisState.from_url(redis, prefix=unique_prefix())
    b = RedisState.from_url(redis, prefix=unique_prefix())
    try:
        assert await a.first_time("k") and await b.first_time("k")
        await a.put_context("k", {"x": 1})
        assert await b.get_context("k") is None
    finally:
        await a.close()
        await b.close()


@session_loop
async def test_every_key_expires(redis: str) -> None:
    prefix = unique_prefix()
    state = RedisState.from_url(redis, prefix=prefix)
    client = aioredis.from_url(redis, decode_responses=True)
    try:
        await state.first_time("slack:event:Ev1")
        await state.rate_limit("U1")
        await state.put_context("slack:dm:D1", {"question": "q"})
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        assert len(keys) == 3
        ttls = {k.removeprefix(prefix).split(":")[0]: await client.pttl(k) for k in keys}
        # seen: 10 minutes; rate: until the bucket is full again (5 x 10 s); context: an hour
        assert 0 < ttls["seen"] <= 600_000 and 0 < ttls["rate"] <= 50_000
        assert 0 < ttls["context"] <= 3_600_000, ttls
    finally:
        await state.close()
        await client.aclose()


def test_the_environment_picks_the_backend() -> None:
    assert isinstance(state_from_env({}), MemoryState)
    assert isinstance(state_from_env({"POLICY_QA_REDIS_URL": "  "}), MemoryState)
    state = state_from_env(
        {
            "POLICY_QA_REDIS_URL": "redis://:s3cret-SENTINEL@10.0.0.9:6380/2",
            "POLICY_QA_REDIS_PREFIX": "acme:",
        }  # fmt: skip
    )
    assert isinstance(state, RedisState) and state.prefix == "acme:"
    assert state.where == "Redis at 10.0.0.9:6380" and "SENTINEL" not in state.where
    with pytest.raises(ConfigurationError) as refused:
        state_from_env({"POLICY_QA_REDIS_URL": "http://user:s3cret-SENTINEL@host/"})
    assert "SENTINEL" not in str(refused.value) and "POLICY_QA_REDIS_URL" in str(refused.value)


# --- Redis down, slow, back --------------------------------------------------------------------


async def _loop_stalls_during(work: Any) -> tuple[Any, float]:
    """(what `work` returned, the longest the event loop went without running a 10 ms ticker)."""
    longest, running = 0.0, True

    async def ticker() -> None:
        nonlocal longest
        last = time.monotonic()
        while running:
            await asyncio.sleep(0.01)
            longest, last = max(longest, time.monotonic() - last), time.monotonic()

    ticking = asyncio.ensure_future(ticker())
    try:
        return await work, longest
    finally:
        running = False
        await ticking


@session_loop
async def test_redis_down_answers_from_memory_and_warns_once(
    own: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.state.redis")
    state = RedisState.from_url(own.url, prefix=unique_prefix(), retry_seconds=0.5)
    try:
        assert await state.first_time("Ev1")
        own.stop()
        started = time.monotonic()

        async def during_outage() -> list[Any]:
            return [
                await state.first_time("Ev2"),
                await state.first_time("Ev2"),  # still deduplicated, by this worker alone
                *[await state.rate_limit("U1") for _ in range(6)],
                await state.put_context("c", {"q": 1}),  # type: ignore[func-returns-value]
                await state.get_context("c"),
            ]

        got, stall = await _loop_stalls_during(during_outage())
        assert got == [True, False, 0, 0, 0, 0, 0, got[7], None, {"q": 1}] and got[7] > 0
        assert time.monotonic() - started < 1.0 and stall < 0.2
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "Redis at 127.0.0.1" in warnings[0].getMessage()
        own.start()
        await asyncio.sleep(0.6)  # retry_seconds: then Redis is asked again
        assert await state.first_time("Ev3") is True
        assert await state.first_time("Ev3") is False
        back = [r for r in caplog.records if "answers again" in r.getMessage()]
        assert len(back) == 1 and back[0].levelno == logging.INFO
        check = aioredis.from_url(own.url)
        assert await check.exists(state.prefix + "seen:Ev3") == 1  # in Redis, not in memory
        await check.aclose()
    finally:
        await state.close()


@session_loop
async def test_redis_that_never_answers_costs_half_a_second_not_a_blocked_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A host that accepts the connection and then says nothing (a hung Redis)."""
    caplog.set_level(logging.WARNING, logger="adapters.state.redis")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes the handshake; nobody ever reads
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        state = RedisState.from_url(url, prefix=unique_prefix())
        try:
            started = time.monotonic()
            (first, second), stall = await _loop_stalls_during(
                asyncio.gather(state.first_time("Ev1"), state.rate_limit("U1"))
            )
            took = time.monotonic() - started
            assert first is True and second == 0.0
            assert 0.4 < took < 1.0 and stall < 0.2, (took, stall)
            started = time.monotonic()
            assert await state.first_time("Ev1") is False  # memory straight away meanwhile
            assert time.monotonic() - started < 0.05
            assert len(caplog.records) == 1
        finally:
            await state.close()
