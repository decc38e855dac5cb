"""The Slack app when things are slow or fail: a slow or still loading core, Slack's 429s and
outages, a user's flood, an internal error; what reaches the logs; /healthz while indexing. Signed
HTTP requests in, the fake Slack Web API and response_url out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import math
import socket
import threading
import time
from typing import Any

import numpy as np
import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.limits import PerUserRateLimiter
from adapters.slack_app import SORRY, create_app
from assistant import Assistant
from tests.doubles import BrokenAssistant, SlowAssistant
from tests.fake_slack import SECRET, dm, mention
from tests.slack_apps import TOKEN
from tests.test_slack_render import texts

TEXT_SENTINEL = "zebracornflakes"  # user text that must never reach the logs
QUESTION = "Why was Kaspersky banned?"
QUIET_SECONDS = 1.5  # how long "no further reply" is watched for
session_loop = pytest.mark.asyncio(loop_scope="session")


@session_loop
async def test_slow_core_is_still_acked_within_3_seconds(serve_app, slack, assistant):
    app = await serve_app(SlowAssistant(assistant, delay=5.0))
    status, command_latency = await app.command(QUESTION, f"{slack.url}/response/1")
    _, event_latency = await app.event(dm(QUESTION))
    assert status == 200 and command_latency < 3.0 and event_latency < 3.0
    started = time.monotonic()
    await slack.wait_for("response_url")
    await slack.wait_for("chat.postMessage")
    answered_after = time.monotonic() - started
    print(f"ack latency with a 5 s core: /ask {command_latency * 1000:.0f} ms, "
          f"event {event_latency * 1000:.0f} ms; answers after {answered_after:.1f} s")  # fmt: skip


@session_loop
async def test_still_loading_model_acks_and_answers_once_loaded(serve_app, slack, assistant):
    loading: concurrent.futures.Future[Assistant] = concurrent.futures.Future()
    app = await serve_app(loading)
    assert await app.health() == {"model_loaded": False}
    status, latency = await app.command(QUESTION, f"{slack.url}/response/1")
    assert status == 200 and latency < 3.0
    await asyncio.sleep(0.5)
    assert slack.posted("response_url") == []
    loading.set_result(assistant)
    await slack.wait_for("response_url")
    assert await app.health() == {"model_loaded": True}


@session_loop
async def test_429_from_slack_is_retried_after_retry_after(serve_app, slack, assistant):
    slack.rate_limit_next = 1
    app = await serve_app(assistant)
    await app.event(dm(QUESTION))
    await slack.wait_for("chat.postMessage", count=2)
    times = [t for name, _, t in slack.calls if name == "chat.postMessage"]
    assert times[1] - times[0] >= 0.9  # Retry-After: 1
    await asyncio.sleep(QUIET_SECONDS)
    assert len(slack.posted()) == 2 and slack.rate_limit_next == 0


@session_loop
async def test_rate_limited_user_gets_a_short_kind_reply(serve_app, slack, assistant):
    app = await serve_app(assistant, limiter=PerUserRateLimiter(burst=1, per_seconds=60))
    await app.event(mention(QUESTION), event_id="Ev1")
    await slack.wait_for("chat.postMessage")
    await app.event(mention(QUESTION, ts="1700000000.000999"), event_id="Ev2")
    [notice] = await slack.wait_for("chat.postEphemeral")
    assert notice["user"] == "U1" and "try again in" in notice["text"]
    assert len(slack.posted()) == 1


@session_loop
async def test_internal_error_gives_a_kind_reply_and_logs_the_traceback(
    serve_app, slack, assistant, caplog
):
    caplog.set_level(logging.INFO)
    app = await serve_app(BrokenAssistant(assistant))
    await app.event(dm(QUESTION))
    [post] = await slack.wait_for("chat.postMessage")
    assert post["text"] == SORRY and "index file is corrupt" not in texts(post)
    await app.command(QUESTION, f"{slack.url}/response/1")
    [reply] = await slack.wait_for("response_url")  # "Looking…" went back as the ack itself
    assert reply["text"] == SORRY and reply["response_type"] == "ephemeral"
    [failure, *_] = [r for r in caplog.records if r.name == "adapters.slack_app" and r.exc_info]
    assert failure.levelno == logging.ERROR and "index file is corrupt" in caplog.text
    assert "Traceback" in caplog.text and "Traceback" not in texts(post)


@session_loop
async def test_tokens_and_user_text_never_reach_logs_at_info(serve_app, slack, assistant, caplog):
    caplog.set_level(logging.DEBUG)  # as if run with -vv: the bolt loggers copy the root level
    app = await serve_app(assistant)
    question = f"{TEXT_SENTINEL} why was Kaspersky banned?"
    await app.event(dm(question), secret="wrong")
    await app.event(dm(question))
    await app.event(mention(question), event_id="Ev2")
    await app.command(question, f"{slack.url}/response/1")
    channel_message = {"type": "message", "channel_type": "channel", "channel": "C9",
                       "text": TEXT_SENTINEL, "user": "U1", "ts": "1.2"}  # fmt: skip
    await app.event(channel_message, event_id="Ev3")
    await slack.wait_for("chat.postMessage", count=2)
    await slack.wait_for("response_url")
    # Bolt's own check logs the raw body of a request it rejects, at INFO.
    bolt_app = create_app(
        assistant, AsyncWebClient(token=TOKEN, base_url=f"{slack.url}/api/"), signing_secret=SECRET
    )
    rejected = await bolt_app.async_dispatch(
        AsyncBoltRequest(
            body=json.dumps({"event": {"text": TEXT_SENTINEL}}),
            headers={"x-slack-signature": "v0=00"},
        )
    )
    assert rejected.status == 401
    assert TEXT_SENTINEL in texts(slack.posted()[0])  # the text did flow through the app
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert shown, "expected some logging to check"
    for record in shown:
        message = record.getMessage() + (str(record.exc_info) if record.exc_info else "")
        for secret in (TEXT_SENTINEL, TOKEN, SECRET):
            assert secret not in message, f"{secret!r} logged by {record.name}: {message}"


def closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@session_loop
@pytest.mark.parametrize("outage", ["refused", "503"])
async def test_with_slack_unreachable_requests_are_acked_and_the_failure_logged_once(
    serve_app, slack, assistant, caplog, outage
):
    caplog.set_level(logging.INFO)
    if outage == "refused":
        nowhere = f"http://127.0.0.1:{closed_port()}"
        app = await serve_app(assistant, api=f"{nowhere}/api/")
    else:  # Slack's edge answers, but 503 to every call
        slack.down, nowhere = True, slack.url
        app = await serve_app(assistant)
    started = time.monotonic()
    for n in range(10):
        status, latency = await app.command(QUESTION, f"{nowhere}/response/{n}", user=f"U{n}")
        assert status == 200 and latency < 3.0
        status, latency = await app.event(dm(QUESTION, ts=f"1.{n}"), event_id=f"Ev{n}")
        assert status == 200 and latency < 3.0
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    await asyncio.sleep(QUIET_SECONDS)  # the answers' delivery fails meanwhile
    if outage == "503":  # counted at the fake's edge: one look-up per backoff step (1, 2, 4 s…)
        lookups = len(slack.posted("auth.test"))
        assert 1 <= lookups <= 1 + math.log2(1 + elapsed), (lookups, elapsed)
        assert len(slack.posted("response_url")) == 10  # the answers were sent, and refused
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING]
    undelivered = [r for r in shown if "Could not deliver answers to Slack" in r.getMessage()]
    assert len(undelivered) == 1 and len(shown) <= 3, [r.getMessage() for r in shown]
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]


class _GatedEmbedder:
    """The real model, stopping halfway through indexing until the test lets it go on."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner, self.gate, self.model_id = inner, gate, inner.model_id

    def embed(self, texts: Any, progress: Any = None) -> Any:
        half = len(texts) // 2
        first = self.inner.embed(texts[:half], progress)
        self.gate.wait(30)
        return np.vstack([first, self.inner.embed(texts[half:], progress)])


@session_loop
async def test_healthz_reports_indexing_then_ready(serve_app, assistant, tmp_path):
    """/healthz says how far the indexing is while the documents load, then that it answers."""
    from assistant.status import Status

    gate, status = threading.Event(), Status()
    future: concurrent.futures.Future[Assistant] = concurrent.futures.Future()

    def load() -> None:
        embedder = _GatedEmbedder(assistant.embedder, gate)
        future.set_result(
            Assistant.load(embedder=embedder, cache_dir=tmp_path / "cache", status=status)
        )

    app = await serve_app(future, status=status)
    loader = threading.Thread(target=load)
    loader.start()
    deadline = time.monotonic() + 30
    try:
        while (health := await app.health())["state"] != "indexing" or not health["embedded"]:
            assert time.monotonic() < deadline, health
            await asyncio.sleep(0.05)
        assert health["model_loaded"] is False and 0 < health["embedded"] < health["to_embed"]
    finally:
        gate.set()
        await asyncio.to_thread(loader.join)
    health = await app.health()
    assert health["model_loaded"] is True and health["state"] == "ready"
    assert health["documents"] == 1 and health["passages"] == len(assistant.index)
