"""The Slack app end to end: signed HTTP requests in, a fake Slack Web API and response_url out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters import slack_app
from adapters.limits import PerUserRateLimiter
from adapters.slack_app import SORRY, create_app, create_web_app
from adapters.slack_http import WebRunner
from adapters.slack_render import escape, render_payloads
from assistant import Answer, Assistant
from tests.doubles import BrokenAssistant, SlowAssistant
from tests.fake_slack import SECRET, FakeSlack, Running, dm, mention
from tests.test_slack_render import assert_within_limits, long_answer, texts

TOKEN = "xoxb-SENTINEL-T0KEN-0000"
TEXT_SENTINEL = "zebracornflakes"  # user text that must never reach the logs
QUESTION = "Why was Kaspersky banned?"
QUIET_SECONDS = 1.5  # how long "no further reply" is watched for
session_loop = pytest.mark.asyncio(loop_scope="session")


class FixedAnswer(SlowAssistant):
    def __init__(self, inner: Assistant, answer: Answer) -> None:
        super().__init__(inner, 0.0)
        self.fixed = answer

    def answer(self, question: str) -> Answer:
        return self.fixed


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    assert fake.runner is not None
    await fake.runner.cleanup()


@pytest.fixture
async def serve_app(slack: FakeSlack) -> AsyncIterator[Callable[..., Any]]:
    runners: list[web.AppRunner] = []
    session = aiohttp.ClientSession()

    async def start(
        source: Any,
        limiter: PerUserRateLimiter | None = None,
        api: str | None = None,
        status: Any = None,
    ) -> Running:
        client = AsyncWebClient(token=TOKEN, base_url=api or f"{slack.url}/api/")
        app = create_app(source, client, signing_secret=SECRET, rate_limiter=limiter)
        runner = WebRunner(create_web_app(app, source, SECRET, status=status), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return Running(f"http://127.0.0.1:{runner.addresses[0][1]}", session)

    yield start
    await asyncio.sleep(0.1)  # let background listeners finish before their loop goes on
    await session.close()
    for runner in runners:
        await runner.cleanup()


@session_loop
async def test_slash_command_is_acked_then_answered_through_response_url(
    serve_app, slack, assistant
):
    app = await serve_app(assistant)
    status, latency = await app.command(QUESTION, f"{slack.url}/response/1")
    assert status == 200 and latency < 3.0
    [reply] = await slack.wait_for("response_url")
    assert reply["response_type"] == "in_channel"
    assert "Kaspersky" in texts(reply) and any(b["type"] == "section" for b in reply["blocks"])
    assert slack.posted() == []  # the slash command answers through response_url only


@session_loop
async def test_private_flag_answers_ephemerally(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.command(f"private {QUESTION}", f"{slack.url}/response/1")
    [reply] = await slack.wait_for("response_url")
    assert reply["response_type"] == "ephemeral"
    assert "Question: Why was Kaspersky banned?" in texts(reply)


@session_loop
async def test_mention_is_answered_in_its_thread(serve_app, slack, assistant):
    app = await serve_app(assistant)
    status, _ = await app.event(mention(QUESTION))
    assert status == 200
    [post] = await slack.wait_for("chat.postMessage")
    assert post["channel"] == "C1" and post["thread_ts"] == "1700000000.000200"
    assert "&lt;@UBOT&gt;" not in texts(post)  # the bot's own mention is not part of the question


@session_loop
async def test_dm_is_answered_in_the_dm(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(QUESTION))
    [post] = await slack.wait_for("chat.postMessage")
    assert post["channel"] == "D1" and "thread_ts" not in post
    assert post["blocks"] == render_payloads(assistant.answer(QUESTION), assistant)[0]["blocks"]


@session_loop
async def test_show_full_quotes_answers_the_clicker_in_full(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(QUESTION))
    [post] = await slack.wait_for("chat.postMessage")
    [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["text"]["text"] == "Show full quotes" and button["value"] == QUESTION
    status, latency = await app.click(button["value"], f"{slack.url}/response/1", user="U2")
    assert status == 200 and latency < 3.0
    [full] = await slack.wait_for("response_url")
    # for the clicker alone, under the compact answer (which stays as it was)
    assert full["response_type"] == "ephemeral" and full["replace_original"] is False
    answer = assistant.answer(QUESTION)
    [expected] = render_payloads(answer, assistant, full=True)
    assert full["blocks"] == expected["blocks"]
    shown = "".join(b["text"]["text"] for b in full["blocks"] if b["type"] == "section")
    for citation in answer.citations:  # every quote whole
        assert escape(citation.quote) in shown.replace("*", "").replace("> ", "")
    assert not any(b["type"] == "actions" for b in full["blocks"])


@session_loop
async def test_show_full_quotes_is_acked_within_3_seconds_with_a_slow_core(
    serve_app, slack, assistant
):
    app = await serve_app(SlowAssistant(assistant, delay=4.0))
    question = "<!channel> why & how was Kaspersky banned?"  # comes back as escaped as it went
    status, latency = await app.click(escape(question), f"{slack.url}/response/1")
    assert status == 200 and latency < 3.0
    [full] = await slack.wait_for("response_url")
    assert full["response_type"] == "ephemeral"
    assert "Question: &lt;!channel&gt; why &amp; how was Kaspersky banned?" in texts(full)


@session_loop
async def test_same_event_delivered_three_times_is_answered_once(serve_app, slack, assistant):
    app = await serve_app(assistant)
    for _ in range(3):
        assert (await app.event(dm(QUESTION), event_id="EvSame"))[0] == 200
    await slack.wait_for("chat.postMessage")
    await asyncio.sleep(QUIET_SECONDS)
    assert len(slack.posted()) == 1


@session_loop
async def test_mention_and_message_for_one_post_are_answered_once(serve_app, slack, assistant):
    app = await serve_app(assistant)
    ts = "1700000000.000300"
    await app.event(mention(QUESTION, ts=ts, channel="D1", channel_type="im"), event_id="EvA")
    await app.event(dm(f"<@UBOT> {QUESTION}", ts=ts), event_id="EvB")
    await slack.wait_for("chat.postMessage")
    await asyncio.sleep(QUIET_SECONDS)
    assert len(slack.posted()) == 1


@session_loop
@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B999", "subtype": "bot_message"},
        {"bot_id": "B999"},
        {"bot_profile": {"id": "B999"}},
        {"user": "UBOT", "bot_id": "BBOT"},  # ourselves
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"edited": {"user": "U1", "ts": "1700000001.0"}},
    ],
)
async def test_bot_messages_edits_and_joins_are_ignored(serve_app, slack, assistant, extra):
    app = await serve_app(assistant)
    assert (await app.event(dm(QUESTION, **extra)))[0] == 200
    assert (await app.event(mention(QUESTION, **extra), event_id="Ev2"))[0] == 200
    await asyncio.sleep(QUIET_SECONDS)
    assert slack.posted() == [] and slack.posted("chat.postEphemeral") == []


@session_loop
@pytest.mark.parametrize(
    "how",
    [
        {"secret": "wrong-secret"},
        {"timestamp": str(int(time.time()) - 301)},  # stale, although correctly signed
        {"timestamp": "not-a-number"},
        {"timestamp": ""},
    ],
)
async def test_unsigned_stale_or_malformed_requests_get_401(serve_app, slack, assistant, how):
    app = await serve_app(assistant)
    assert (await app.event(dm(QUESTION), **how))[0] == 401
    assert (await app.command(QUESTION, f"{slack.url}/response/1", **how))[0] == 401
    await asyncio.sleep(0.5)
    assert slack.calls == []


@session_loop
async def test_missing_signature_headers_get_401(serve_app, slack, assistant):
    app = await serve_app(assistant)
    async with app.session.post(
        f"{app.url}/slack/events", data=b'{"type":"event_callback"}'
    ) as resp:
        assert resp.status == 401


@session_loop
async def test_channel_mention_in_a_question_is_posted_defanged(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(f"<!channel> <!here> <@U0LEADER> <!subteam^S123> @everyone {QUESTION}"))
    [post] = await slack.wait_for("chat.postMessage")
    body = texts(post)
    assert "<!" not in body and "<@" not in body and "@everyone" not in body
    assert "&lt;!channel&gt;" in body and "&lt;@U0LEADER&gt;" in body and "@\u200beveryone" in body


@pytest.fixture(scope="session")
def mischievous(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Assistant:
    """A knowledge folder whose only document pings everyone if posted raw."""
    folder = tmp_path_factory.mktemp("mischief")
    (folder / "office.md").write_text(
        "---\ntitle: Office hours <!here> & rules\nurl: https://example.com/a?b=1&c=<2>|x\n---\n"
        "The office closes at six in the evening on Fridays. <!channel> please remember that "
        "@everyone must badge out before leaving, and <@U0BOSS> approves any late stays.\n",
        encoding="utf-8",
    )
    return Assistant.load(folder, cache_dir=cache_dir)


@session_loop
async def test_mentions_inside_a_document_are_posted_defanged(serve_app, slack, mischievous):
    app = await serve_app(mischievous)
    await app.event(dm("When does the office close on Fridays?"))
    [post] = await slack.wait_for("chat.postMessage")
    body = texts(post)
    assert "closes at six" in body, "the question should be answered from the document"
    assert "<!" not in body and "<@" not in body and "@everyone" not in body
    assert "&lt;!channel&gt;" in body and "&lt;@U0BOSS&gt;" in body and "@\u200beveryone" in body
    assert (
        "<https://example.com/a?b=1&amp;c=%3C2%3E%7Cx|Office hours &lt;!here&gt; &amp; rules>"
        in body
    )


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
async def test_long_answer_is_posted_in_order_within_limits(serve_app, slack, assistant):
    answer = long_answer(assistant, [2_900, 2_900, 2_900, 2_900, 2_900])
    app = await serve_app(FixedAnswer(assistant, answer))
    await app.event(dm("Tell me everything"))
    expected = render_payloads(answer, assistant)
    posts = await slack.wait_for("chat.postMessage", count=len(expected))
    assert [p["blocks"] for p in posts] == [p["blocks"] for p in expected]
    for post in posts:
        assert_within_limits(post)


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


@pytest.fixture
def slack_env(
    monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, tmp_path: Path
) -> pytest.MonkeyPatch:
    """`serve()`'s environment, its Web API client pointed at the fake Slack."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("PORT", "0")
    # serve opens the records database: in the test's folder, never the user's own
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("POLICY_QA_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        slack_app, "AsyncWebClient", partial(AsyncWebClient, base_url=f"{slack.url}/api/")
    )
    return monkeypatch


@session_loop
@pytest.mark.parametrize("missing", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
async def test_serve_without_a_setting_says_so_in_one_line(slack_env, assistant, capsys, missing):
    slack_env.delenv(missing)
    assert slack_app.serve(lambda: assistant) == 4
    err = capsys.readouterr().err
    assert missing in err and err.count("\n") == 1


@session_loop
@pytest.mark.parametrize("port", ["eighty", "99999", "²³"])
async def test_serve_with_a_bad_port_says_so_in_one_line(slack_env, assistant, capsys, port):
    slack_env.setenv("PORT", port)
    assert slack_app.serve(lambda: assistant) == 4
    err = capsys.readouterr().err
    assert "PORT must be a port number" in err and err.count("\n") == 1


@session_loop
async def test_serve_with_a_rejected_token_exits_with_one_line(slack_env, slack, assistant, capsys):
    slack.auth_error = "invalid_auth"
    assert await asyncio.to_thread(slack_app.serve, lambda: assistant) == 4
    err = capsys.readouterr().err
    assert "rejected the token (invalid_auth)" in err and err.count("\n") == 1 and TOKEN not in err


@session_loop
async def test_serve_exits_when_the_documents_cannot_be_loaded(slack_env, tmp_path, capsys):
    def load() -> Assistant:
        return Assistant.load(tmp_path / "nowhere")

    assert await asyncio.to_thread(slack_app.serve, load) == 3
    assert "nowhere" in capsys.readouterr().err


async def serving(load: Callable[[], Assistant], capsys: pytest.CaptureFixture[str]) -> Any:
    """`serve()` started in a thread: (its task, the IPv4 port it says it listens on)."""
    task = asyncio.ensure_future(asyncio.to_thread(slack_app.serve, load))
    said, deadline = "", time.monotonic() + 30
    while not (found := re.search(r"running on .*http://0\.0\.0\.0:(\d+)", said)):
        assert time.monotonic() < deadline and not task.done(), said
        await asyncio.sleep(0.05)
        said += capsys.readouterr().err
    return task, int(found.group(1))


@session_loop
async def test_serve_says_the_port_it_listens_on(slack_env, slack, tmp_path, capsys):
    loading = threading.Event()

    def load() -> Assistant:
        loading.wait(30)
        return Assistant.load(tmp_path / "nowhere")  # ends the test: serve exits

    task, port = await serving(load, capsys)  # $PORT is 0: any free port
    app = Running(f"http://127.0.0.1:{port}", aiohttp.ClientSession())
    assert port != 0 and await app.health() == {"model_loaded": False}
    status, _ = await app.command(QUESTION, f"{slack.url}/response/1")
    assert status == 200
    await app.session.close()
    loading.set()
    assert await task == 3


@session_loop
async def test_serve_with_slack_down_keeps_acking_and_looks_up_the_bot_with_backoff(
    slack_env, slack, tmp_path, capsys
):
    slack.down = True
    loading = threading.Event()

    def load() -> Assistant:
        loading.wait(30)
        return Assistant.load(tmp_path / "nowhere")

    task, port = await serving(load, capsys)
    app = Running(f"http://127.0.0.1:{port}", aiohttp.ClientSession())
    started = time.monotonic()
    while time.monotonic() - started < 3.5:
        status, latency = await app.command(QUESTION, f"{slack.url}/response/1")
        assert status == 200 and latency < 3.0
        await asyncio.sleep(0.25)
    await app.session.close()
    lookups = [t for name, _, t in slack.calls if name == "auth.test"]
    # at start, then in the background 1 s and 3 s later, whatever the requests
    assert len(lookups) == 3, lookups
    assert [round(b - a) for a, b in zip(lookups, lookups[1:], strict=False)] == [1, 2]
    loading.set()
    assert await task == 3


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
