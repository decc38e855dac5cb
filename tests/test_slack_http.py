"""The Slack app's HTTP front on loopback: what anyone on the internet can send it gets 401, 400 or
cut off, never a 500 or a traceback; Slack's own requests are answered as before."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_app import LOOKING, create_app, create_web_app
from adapters.slack_http import REQUEST_SECONDS, WebRunner
from assistant import Assistant
from tests.fake_slack import FakeSlack, Running

TEXT_SENTINEL = "zebracornflakes"  # user text that must never reach the logs
session_loop = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def front() -> AsyncIterator[tuple[Running, FakeSlack]]:
    """The app on loopback as `serve` runs it, with a model still loading (not what is tested)."""
    slack = FakeSlack()
    await slack.start()
    loading: concurrent.futures.Future[Assistant] = concurrent.futures.Future()
    client = AsyncWebClient(token="xoxb-test", base_url=f"{slack.url}/api/")
    app = create_app(loading, client, signing_secret="s3cret")
    runner = WebRunner(create_web_app(app, loading, "s3cret"), access_log=None)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    session = aiohttp.ClientSession()
    yield Running(f"http://127.0.0.1:{runner.addresses[0][1]}", session, secret="s3cret"), slack
    await session.close()
    await runner.cleanup()
    assert slack.runner is not None
    await slack.runner.cleanup()


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@session_loop
@pytest.mark.parametrize("timestamp", ["²³", "9" * 5_000])  # both pass str.isdigit()
async def test_timestamps_that_are_not_ascii_digits_get_401(front, caplog, timestamp):
    app, slack = front
    assert (await app.send('{"type": "event_callback"}', "application/json", timestamp))[0] == 401
    no_traceback(caplog)
    [rejected] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "malformed timestamp" in rejected.getMessage() and slack.calls == []


@session_loop
@pytest.mark.parametrize("signature", [None, "v0=00"])
async def test_an_unsigned_body_that_is_not_utf8_gets_401(front, caplog, signature):
    app, _ = front
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": app.now()}
    if signature:
        headers["X-Slack-Signature"] = signature
    body = b'{"text": "\xff\xfe ' + TEXT_SENTINEL.encode() + b'"}'
    async with app.session.post(f"{app.url}/slack/events", data=body, headers=headers) as resp:
        assert resp.status == 401
    no_traceback(caplog)
    [rejected] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert TEXT_SENTINEL not in rejected.getMessage()


@session_loop
@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"text": "' + TEXT_SENTINEL.encode() + b'"', "application/json"),  # cut short
        (b"[1, 2]", "application/json"),
        (b'"' + TEXT_SENTINEL.encode() + b'"', "application/json"),
        (b"[" * 100_000, "application/json"),  # deeper than the JSON parser recurses
        (b'{"type": "event_callback", "authorizations": "x"}', "application/json"),
        (b'{"text": "\xff\xfe"}', "application/json"),  # signed, but not UTF-8
        (b"payload=" + TEXT_SENTINEL.encode(), "application/x-www-form-urlencoded"),
        (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),  # payload=[1]
        (b"command=/ask&text=hello", "text/plain"),
    ],
)
async def test_signed_bodies_slack_would_not_send_get_400(front, caplog, body, content_type):
    app, slack = front
    assert (await app.send(body, content_type))[0] == 400
    no_traceback(caplog)
    [rejected] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert rejected.name == "adapters.slack_http" and TEXT_SENTINEL not in caplog.text
    assert slack.calls == []


@session_loop
async def test_a_slash_command_mentioning_payload_is_acked(front):
    # Bolt's own parser takes any form containing "payload" for an interactivity payload.
    app, _ = front
    form = {"command": "/ask", "text": "what is the payload policy?", "user_id": "U1",
            "channel_id": "C1", "team_id": "T1", "response_url": f"{app.url}/nowhere"}  # fmt: skip
    async with app.session.post(
        f"{app.url}/slack/events",
        data=urlencode(form).encode(),
        headers=app.signed(urlencode(form).encode(), "application/x-www-form-urlencoded"),
    ) as resp:
        assert resp.status == 200 and await resp.text() == LOOKING


async def trickle(port: int, at_once: bytes, slowly: bytes, every: float) -> tuple[float, bytes]:
    """Sends `at_once`, then `slowly` one byte every `every` s, on one connection; returns the
    seconds from the first byte until the server closed the connection, and what it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()

    async def send() -> None:
        writer.write(at_once)
        for byte in slowly:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)

    sending = asyncio.ensure_future(send())
    try:
        answer = await asyncio.wait_for(reader.read(), REQUEST_SECONDS + 5)
    except ConnectionResetError:
        answer = b""
    finally:
        sending.cancel()
        writer.close()
    return time.monotonic() - started, answer


async def request_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    return await asyncio.wait_for(reader.readuntil(b"}"), 5)


@session_loop
async def test_slow_clients_are_cut_off_and_others_are_not(front):
    app, _ = front
    port = int(app.url.rsplit(":", 1)[1])
    body = json.dumps({"type": "event_callback", "event": {"type": "message"}}).encode()
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-Slack-Request-Timestamp: {app.now()}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    idle = await asyncio.open_connection("127.0.0.1", port)  # kept alive, used again at the end
    assert b'"model_loaded": false' in await request_on(*idle)
    slow_head = asyncio.ensure_future(trickle(port, b"", head + body, every=0.1))
    slow_body = asyncio.ensure_future(trickle(port, head, body, every=REQUEST_SECONDS / 40))
    while not (slow_head.done() and slow_body.done()):
        status, latency = await app.send(body.decode(), "application/json")
        assert status == 200 and latency < 1.0  # served as usual meanwhile
        await asyncio.sleep(1.0)
    (head_cut, answered), (body_cut, answered_too) = slow_head.result(), slow_body.result()
    print(f"cut off after {head_cut:.2f} s (headers) and {body_cut:.2f} s (body)")
    assert REQUEST_SECONDS - 0.5 < head_cut < REQUEST_SECONDS + 1.5 and answered == b""
    assert REQUEST_SECONDS - 0.5 < body_cut < REQUEST_SECONDS + 1.5 and answered_too == b""
    # an idle keep-alive connection is not a slow request: proxies keep them open on purpose
    assert b'"model_loaded": false' in await request_on(*idle)
    idle[1].close()


@session_loop
@pytest.mark.parametrize(
    "head",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9_000 + b"\r\n\r\n",
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
    ],
)
async def test_malformed_http_gets_400_without_a_traceback(front, caplog, head):
    app, _ = front
    reader, writer = await asyncio.open_connection("127.0.0.1", int(app.url.rsplit(":", 1)[1]))
    writer.write(head)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.0 400 "))
    no_traceback(caplog)
    [rejected] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "malformed HTTP request" in rejected.getMessage()
