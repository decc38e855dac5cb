"""Slack's HTTP front: signed requests in, 401 or 400 out for anything else, slow clients cut off.

Slack signs `v0:{timestamp}:{raw body}` with the app's signing secret (HMAC-SHA256) and sends
commands and interactivity as forms, events as JSON; it waits 3 s for an answer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.knowledge_sets import KnowledgeSets
from assistant import Assistant
from assistant.status import Status

__all__ = ["REQUEST_SECONDS", "AssistantSource", "WebRunner", "create_web_app", "unsigned"]

log = logging.getLogger(__name__)

# An assistant (or several knowledge sets), or one still loading in a background thread (so HTTP
# mode acks within 3 s).
AssistantSource = (
    Assistant
    | KnowledgeSets
    | concurrent.futures.Future[Assistant]
    | concurrent.futures.Future[KnowledgeSets]
)

# From its first byte, a request's headers and body must all arrive within this many seconds.
# Slack gives up on a request it has not had an answer to after 3 s, so a request that takes
# longer than that to arrive is already lost; a Slack request (a few kB) arrives in milliseconds.
# 10 s leaves room for a slow link or a buffering proxy and still frees a slow client's
# connection quickly (aiohttp itself never times out a client that trickles its headers in).
REQUEST_SECONDS = 10.0
MAX_AGE_SECONDS = 300  # Slack's rule: a timestamp further than this from now is a replay
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII only: "²³".isdigit(), but int() refuses it


def unsigned(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> str | None:
    """Why a request is not one Slack signed with `secret` (None if it is), from the raw bytes,
    before anything is decoded."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        return "no timestamp" if not timestamp else "a malformed timestamp"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "a stale timestamp"
    signed = b"v0:" + timestamp.encode() + b":" + raw
    expected = b"v0=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
    given = headers.get("X-Slack-Signature", "").encode("utf-8", "replace")
    return None if hmac.compare_digest(expected, given) else "a bad signature"


def _parse(raw: bytes, content_type: str) -> dict[str, Any] | str:
    """The body as Slack sends it (a JSON object, or a form, whose `payload` is a JSON object), or
    why it is not."""
    try:
        text = raw.decode("utf-8")
        if content_type == "application/json":
            body = json.loads(text)
        elif content_type == "application/x-www-form-urlencoded":
            body = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" in body:
                body = json.loads(body["payload"])
        else:
            return "a content type Slack does not send"
    except UnicodeDecodeError:
        return "a body that is not UTF-8"
    except (ValueError, RecursionError):
        return "JSON that does not parse"
    return body if isinstance(body, dict) else "JSON that is not an object"


def _to_bolt_request(raw: bytes, request: web.Request) -> AsyncBoltRequest | str:
    """Bolt's request from the bytes already read and checked, or why the body cannot be read."""
    body = _parse(raw, request.content_type)
    if isinstance(body, str):
        return body
    # Bolt's own parser is not used: it takes a form whose text mentions "payload" (as in
    # `/ask what is the payload?`) for an interactivity payload and reads it as empty.
    bolt = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
    bolt.raw_body, bolt.body = raw.decode("utf-8"), body
    try:
        bolt.context = build_async_context(AsyncBoltContext(), body)
    except (AttributeError, LookupError, TypeError):
        return "fields of the wrong shape"  # a team or user id where Slack never puts one
    return bolt


def _is_loaded(source: AssistantSource) -> bool:
    if isinstance(source, concurrent.futures.Future):
        return source.done() and source.exception() is None
    return True


def _status_of(source: AssistantSource, status: Status | None) -> dict[str, Any]:
    """What the assistant is doing: indexing (with how far), ready, or failed."""
    if status is None and not isinstance(source, concurrent.futures.Future):
        status = getattr(source, "status", None)  # a stand-in for the core may have none
    if status is None:
        return {}
    state = status.as_dict()
    if isinstance(source, concurrent.futures.Future) and source.done() and source.exception():
        state["state"] = "failed"
    return state


def create_web_app(
    app: AsyncApp, assistant: AssistantSource, signing_secret: str, *, status: Status | None = None
) -> web.Application:
    """HTTP mode: POST /slack/events (signed requests only) and GET /healthz (whether the model
    is loaded and, given `status`, where the indexing is). Serve it with `WebRunner` so that slow
    clients are cut off."""

    async def events(request: web.Request) -> web.StreamResponse:
        raw = await request.read()  # already read in full, in time, by _read_in_time
        why = unsigned(raw, request.headers, signing_secret, time.time())
        if why:
            # Checked here, not by Bolt, which logs the body of a request it rejects; one line,
            # no body, no traceback: anyone on the internet can send these.
            log.warning("Rejected a request from %s with %s", request.remote, why)
            return web.json_response({"error": "invalid request"}, status=401)
        bolt = _to_bolt_request(raw, request)
        if isinstance(bolt, str):
            log.warning("Rejected a signed request from %s with %s", request.remote, bolt)
            return web.json_response({"error": "unreadable body"}, status=400)
        return await to_aiohttp_response(await app.async_dispatch(bolt))

    async def healthz(_: web.Request) -> web.StreamResponse:
        state = _status_of(assistant, status)
        return web.json_response({"model_loaded": _is_loaded(assistant), **state})

    web_app = web.Application(middlewares=[_read_in_time])
    web_app.add_routes([web.post("/slack/events", events), web.get("/healthz", healthz)])
    return web_app


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _read_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Reads the whole body before any handler runs, so that the connection's deadline covers it."""
    connection = request.protocol if isinstance(request.protocol, _Connection) else None
    try:
        try:
            await request.read()
        except ConnectionResetError:  # cut off by the deadline: nobody will read an answer
            return web.Response(status=408)
        if connection is not None:
            connection.arrived()
        return await handler(request)
    finally:
        if connection is not None:
            connection.answered()


class _Connection(RequestHandler):
    """aiohttp's connection handler, closing the connection when a request's headers and body
    have not all arrived `request_seconds` after its first byte (an idle keep-alive connection is
    left to aiohttp's keep-alive timeout: proxies keep those open on purpose), and answering a
    malformed request without a traceback."""

    def __init__(self, *args: Any, request_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_seconds = request_seconds
        self._cutoff: asyncio.TimerHandle | None = None
        self._in_full = False  # the current request has arrived; the handler is answering it
        self._next_started = False  # bytes of a further request came while answering this one

    def data_received(self, data: bytes) -> None:
        if data and self._in_full:
            self._next_started = True
        elif data and self._cutoff is None:
            self._start_clock()
        super().data_received(data)

    def _start_clock(self) -> None:
        self._cutoff = self._loop.call_later(self.request_seconds, self._too_slow)

    def arrived(self) -> None:
        if self._cutoff is not None:
            self._cutoff.cancel()
            self._cutoff = None
        self._in_full = True

    def answered(self) -> None:
        self._in_full = False
        if self._next_started and self._cutoff is None:
            self._start_clock()  # a pipelined request's clock starts now, at the latest
        self._next_started = False

    def _too_slow(self) -> None:
        self._cutoff = None
        log.warning(
            "Closed a connection from %s: no complete request within %g s",
            self.peername[0] if isinstance(self.peername, tuple) else self.peername,
            self.request_seconds,
        )
        self.force_close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:  # ours to fix: aiohttp logs the traceback
            return super().handle_error(request, status, exc, message)
        # Anyone can send a malformed request; aiohttp would log its traceback at ERROR (and
        # TLS or a scanner on the HTTP port, a bad method, at DEBUG: so do we).
        level = logging.DEBUG if isinstance(exc, BadHttpMethod) else logging.WARNING
        log.log(level, "Rejected a malformed HTTP request from %s (%s)", request.remote,
                type(exc).__name__ if exc else status)  # fmt: skip
        response = web.Response(status=status, text=f"{status} {HTTPStatus(status).phrase}")
        response.force_close()
        return response

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._cutoff is not None:
            self._cutoff.cancel()
            self._cutoff = None
        super().connection_lost(exc)


class _Server(web.Server):
    """aiohttp's server, handing its connections to _Connection."""

    request_seconds = REQUEST_SECONDS

    def __call__(self) -> RequestHandler:
        # what web.Server.__call__ does (aiohttp 3.9 to 3.14), with the deadline added
        return _Connection(
            self, loop=self._loop, request_seconds=self.request_seconds, **self._kwargs
        )


class WebRunner(web.AppRunner):
    """web.AppRunner whose connections must deliver each request (headers and body) within
    `request_seconds` of its first byte; aiohttp has no such timeout of its own."""

    def __init__(
        self, app: web.Application, *, request_seconds: float = REQUEST_SECONDS, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self.request_seconds = request_seconds

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # runs the application's start-up, as AppRunner does
        server = _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **made._kwargs,
        )
        server.request_seconds = self.request_seconds
        return server
