"""Several Slack workers behind nginx sharing one Redis, all real, on loopback; only Slack's Web
API is the fake. The same event delivered over both workers, a mention and its message twin,
one user's burst, a follow-up in a thread reaching the worker that did not answer the thread's
first question, Redis stopped mid-way; then `serve slack --workers 2`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.state.redis import RedisState
from assistant import Assistant
from tests.fake_slack import FakeSlack, Running, dm, mention
from tests.redis_server import RedisServer, own_redis, unique_prefix
from tests.slack_cluster import TOKEN, Nginx, Worker, worker_env
from tests.test_slack_render import texts

QUESTION = "Why was Kaspersky banned?"
FIRST = "Why did Twitter ban Kaspersky's ads?"
FOLLOW_UP = "when was that?"  # alone, the documents cannot say; after FIRST, they can
WHEN = "towards the end of January 2018"
TAKEN_AS = f"Taking this as: “{FIRST}” — “{FOLLOW_UP}”"
QUIET_SECONDS = 1.5  # how long "no further reply" is watched for
session_loop = pytest.mark.asyncio(loop_scope="session")
LIMITED = "asking faster than I can answer"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    yield from own_redis()  # ours to stop and start


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def answers_to(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [p for p in slack.posted() if p.get("channel") == channel and LIMITED not in str(p)]


async def quiet_then(slack: FakeSlack, method: str, channel: str, count: int) -> None:
    """Until `count` posts of `method` reached `channel`, then quiet: no more come."""
    deadline = time.monotonic() + 60
    while len([p for p in slack.posted(method) if p.get("channel") == channel]) < count:
        assert time.monotonic() < deadline, slack.calls
        await asyncio.sleep(0.05)
    await asyncio.sleep(QUIET_SECONDS)


@session_loop
async def test_two_workers_behind_nginx_answer_each_event_once(
    assistant: Assistant,  # loads the model and fills the cache the workers read
    cache_dir: Path,
    redis_server: RedisServer,
    slack: FakeSlack,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    prefix = unique_prefix()
    env = worker_env(slack.url, cache_dir, redis_server.url, prefix)
    workers = [Worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    nginx: Nginx | None = None
    try:
        nginx = Nginx(tmp_path, [w.port for w in workers])
        await nginx.started()
        for worker in workers:
            await worker.ready(session)
        front = Running(nginx.url, session)
        upstreams = {f"127.0.0.1:{w.port}" for w in workers}

        async def events_went_to(since: int, count: int) -> set[str]:
            # nginx logs a request just after answering it: wait for its `count` lines
            deadline = time.monotonic() + 5
            while len(done := nginx.requests()[since:]) < count:
                assert time.monotonic() < deadline, done
                await asyncio.sleep(0.02)
            return {u for _, uri, u in done if uri == "/slack/events"}

        # The same event three times, spread over both workers: one answer.
        before = len(nginx.requests())
        for _ in range(3):
            assert (await front.event(dm(QUESTION, channel="D3"), event_id="EvThrice"))[0] == 200
        assert await events_went_to(before, 3) == upstreams
        await quiet_then(slack, "chat.postMessage", "D3", 1)
        assert len(answers_to(slack, "D3")) == 1

        # A mention and its message twin (one post, two events), one to each worker: one answer.
        before, ts = len(nginx.requests()), "1700000000.000300"
        twin = mention(QUESTION, ts=ts, channel="D4", channel_type="im")
        assert (await front.event(twin, event_id="EvMention"))[0] == 200
        assert (await front.event(dm(f"<@UBOT> {QUESTION}", ts=ts, channel="D4"),
                                  event_id="EvMessage"))[0] == 200  # fmt: skip
        assert await events_went_to(before, 2) == upstreams
        await quiet_then(slack, "chat.postMessage", "D4", 1)
        assert len(answers_to(slack, "D4")) == 1

        # One user's burst of six over both workers: five answers, the sixth is limited.
        before = len(nginx.requests())
        for n in range(6):
            status, _ = await front.command(QUESTION, f"{slack.url}/response/b{n}", user="U6")
            assert status == 200
        assert await events_went_to(before, 6) == upstreams
        replies = await slack.wait_for("response_url", 6)
        await asyncio.sleep(QUIET_SECONDS)
        limited = [r for r in replies if LIMITED in r.get("text", "")]
        assert len(replies) == 6 and len(limited) == 1, replies
        assert limited[0]["response_type"] == "ephemeral"

        # A thread's context written by the worker that answered is there for any other, and a
        # follow-up in the thread that reaches the other worker is read with it.
        before, thread = len(nginx.requests()), "1700000000.000500"
        assert (await front.event(mention(FIRST, ts=thread), event_id="EvCtx"))[0] == 200
        [first_went_to] = await events_went_to(before, 1)
        await quiet_then(slack, "chat.postMessage", "C1", 1)
        another = RedisState.from_url(redis_server.url, prefix=prefix)
        context = await another.get_context(f"slack:thread:C1:{thread}")
        await another.close()
        assert context is not None and context["question"] == FIRST and context["answered"]
        assert context["user"] == "U1" and context["cited"] and FIRST in context["context"]
        the_other = Running(f"http://{(upstreams - {first_went_to}).pop()}", session)
        follow_up = mention(FOLLOW_UP, ts="1700000000.000600", thread_ts=thread, user="U2")
        assert (await the_other.event(follow_up, event_id="EvFollowUp"))[0] == 200
        await quiet_then(slack, "chat.postMessage", "C1", 2)
        followed = answers_to(slack, "C1")[-1]
        assert followed["thread_ts"] == thread and TAKEN_AS in texts(followed)
        assert WHEN in texts(followed).replace("*", "")

        # Redis stops: every question is still answered, once, and nothing gets a 500.
        redis_server.stop()
        before = len(nginx.requests())
        for n in range(4):  # two to each worker
            status, latency = await front.event(
                dm(QUESTION, channel="D5", ts=f"1700000001.{n:06d}", user=f"UR{n}"),
                event_id=f"EvDown{n}",
            )
            assert status == 200 and latency < 3.0
        await quiet_then(slack, "chat.postMessage", "D5", 4)
        assert len(answers_to(slack, "D5")) == 4
        # The same event again: the worker that answered it knows it (in its own memory); the
        # other one, which cannot ask Redis now, answers it again.
        await events_went_to(before, 4)
        answered_by = nginx.requests()[before][2]
        again = dm(QUESTION, channel="D5", ts="1700000001.000000", user="UR0")
        same = Running(f"http://{answered_by}", session)
        assert (await same.event(again, event_id="EvDown0"))[0] == 200
        await asyncio.sleep(QUIET_SECONDS)
        assert len(answers_to(slack, "D5")) == 4
        other = Running(f"http://{(upstreams - {answered_by}).pop()}", session)
        assert (await other.event(again, event_id="EvDown0"))[0] == 200
        await quiet_then(slack, "chat.postMessage", "D5", 5)
        assert len(answers_to(slack, "D5")) == 5
        assert all(status < 500 for status, _, _ in nginx.requests()), nginx.requests()
    finally:
        if nginx is not None:
            nginx.stop()
        # off the loop: the fake Slack it runs must answer the workers while they stop
        codes = [await asyncio.to_thread(w.stop) for w in workers]
    for worker in workers:
        said = worker.output()
        warnings = [ln for ln in said.splitlines() if "cannot be reached" in ln]
        assert len(warnings) == 1 and warnings[0].startswith("WARNING"), said[-3000:]
        assert "Traceback" not in said and "500" not in re.sub(r"\d{4,}", "", said)
        for secret in (TOKEN, QUESTION, FIRST, FOLLOW_UP):  # never a token or a question logged
            assert secret not in said, f"{secret!r} in a worker's log"
    assert codes == [0, 0]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@session_loop
async def test_serve_slack_workers_share_one_port_and_stop_together(
    assistant: Assistant,
    cache_dir: Path,
    redis_server: RedisServer,
    slack: FakeSlack,
    session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    env = worker_env(slack.url, cache_dir, redis_server.url, unique_prefix())
    parent = Worker(env, tmp_path / "workers.log", "--workers", "2")
    try:
        deadline = time.monotonic() + 120
        while not (said := re.search(r"2 workers answering on \S+ \(pids (\d+), (\d+)\)",
                                     parent.output())):  # fmt: skip
            assert parent.process.poll() is None and time.monotonic() < deadline, parent.output()
            await asyncio.sleep(0.1)
        pids = [int(said.group(1)), int(said.group(2))]
        assert sorted(_children(parent.process.pid)) == sorted(pids)
        await parent.ready(session)
        app = Running(parent.url, session)

        # Each request on a connection of its own: the kernel hands them to either worker.
        async def fresh_connection(event: dict[str, Any], event_id: str) -> int:
            async with aiohttp.ClientSession() as own:
                return (await Running(parent.url, own).event(event, event_id=event_id))[0]

        for _ in range(3):
            assert await fresh_connection(dm(QUESTION, channel="D7"), "EvW") == 200
        await quiet_then(slack, "chat.postMessage", "D7", 1)
        assert len(answers_to(slack, "D7")) == 1

        # A worker killed outright is replaced; the port keeps answering meanwhile.
        os.kill(pids[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(now := _children(parent.process.pid)) < 2 or pids[0] in now:
            assert time.monotonic() < deadline, parent.output()
            await asyncio.sleep(0.1)
        assert (await app.command(QUESTION, f"{slack.url}/response/k"))[0] == 200
        await slack.wait_for("response_url")
        replaced = f"Worker 1 (pid {pids[0]}) killed by SIGKILL; starting another"
        assert replaced in parent.output()
        children = _children(parent.process.pid)
    finally:
        started = time.monotonic()
        # off the loop: a worker still starting asks the fake Slack, which this loop serves
        code = await asyncio.to_thread(parent.stop, signal.SIGTERM)
    assert code == 0 and time.monotonic() - started < 20
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    assert json.dumps(parent.output()).count("Traceback") == 0, parent.output()[-3000:]


@pytest.mark.parametrize(
    "argv",
    [["serve", "discord", "--workers", "2"], ["serve", "slack", "--socket", "--workers", "2"]],
)
def test_workers_are_for_slack_over_http_only(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.cli import main

    assert main(argv) == 2
    assert "--workers is for Slack over HTTP" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "65", "two", "²"])
def test_a_number_of_workers_out_of_range_is_refused(
    workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "slack", "--workers", workers])
    assert exited.value.code == 2
    assert "must be a number of processes from 1 to 64" in capsys.readouterr().err
