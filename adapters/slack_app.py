"""Slack adapter. Needs a Slack app (slack-manifest.yaml) with bot scopes commands,
app_mentions:read, chat:write, im:history, im:read, im:write; SLACK_BOT_TOKEN (xoxb-) and, for
HTTP mode, SLACK_SIGNING_SECRET, or, for Socket Mode, SLACK_APP_TOKEN (xapp-, connections:write).

/ask answers through response_url, an @-mention in its thread, a DM in the DM."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.limits import PerUserRateLimiter
from adapters.slack_http import AssistantSource, WebRunner, create_web_app
from adapters.slack_render import SHOW_FULL_ACTION, escape, render_payloads, unescape
from adapters.slack_web_api import (
    BotIdentity,
    Undeliverable,
    Undelivered,
    cannot_reach,
    delivering,
    describe,
)
from adapters.state import MemoryState, SharedState, state_from_env
from adapters.state.context import conversation_record
from adapters.workers import BACKLOG
from assistant import Assistant, KnowledgeError, PolicyQAError
from assistant.status import Status

__all__ = ["create_app", "create_web_app", "render_payloads", "serve"]

log = logging.getLogger(__name__)

EXIT_ERROR, EXIT_KNOWLEDGE, EXIT_CONFIG = 1, 3, 4
SORRY = "Sorry, something went wrong on my side while answering. Please try again in a moment."
LOOKING = "Looking that up…"
_PRIVATE = re.compile(r"^\s*(?:--private|private)\s+", re.IGNORECASE)
_BOT_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*")


def _quiet_slack_loggers() -> logging.Logger:
    """Bolt logs the raw body of a rejected request at INFO and unhandled bodies at WARNING, and
    slack_sdk logs request bodies at DEBUG: user text must never reach the logs that way."""
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    bolt = logging.getLogger("slack_bolt")
    bolt.setLevel(logging.WARNING)
    if not any(isinstance(f, _WithholdBodies) for f in bolt.filters):
        bolt.addFilter(_WithholdBodies())
    return bolt  # as AsyncApp's base logger, its level and filter are copied to every bolt logger


class _WithholdBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token`" in message:
            return False  # the token is in the client we pass on purpose; the env var is not lost
        if "body" in message or "Unhandled request" in message or "{" in message:
            record.msg, record.args = (
                message.split("(", 1)[0].strip() + " (request body withheld)",
                (),
            )
        return True


async def _resolve(source: AssistantSource) -> Assistant:
    if isinstance(source, concurrent.futures.Future):
        return await asyncio.wrap_future(source)
    return source


def to_question(text: str) -> tuple[str, bool]:
    """(question, private) from a slash command's or message's text; `private` or `--private`
    first asks for an answer only the asker sees."""
    text = unescape(text or "")
    private = bool(_PRIVATE.match(text))
    return _PRIVATE.sub("", text, count=1), private


def create_app(
    assistant: AssistantSource,
    client: AsyncWebClient | None = None,
    *,
    signing_secret: str | None = None,
    rate_limiter: PerUserRateLimiter | None = None,
    identity: BotIdentity | None = None,
    state: SharedState | None = None,
) -> AsyncApp:
    """The Bolt app. `assistant` may be a Future still loading; `client` defaults to one with
    $SLACK_BOT_TOKEN (and $SLACK_API_URL). 429s are retried after Retry-After. The bot's identity
    is looked up once (`identity`, else on the first request), never per request. `state` (events
    seen, limits, conversations) defaults to `rate_limiter`'s in memory if given, else to
    `state_from_env()`: Redis when $POLICY_QA_REDIS_URL is set, so that workers share it."""
    client = client or _web_client()
    if not any(isinstance(h, AsyncRateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    known = identity or BotIdentity(client)

    async def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        # Bolt's own single-workspace authorization calls auth.test on every request until it
        # succeeds: with Slack unreachable each request then failed slowly with a 500.
        return known.authorize(enterprise_id, team_id, user_id)

    app = AsyncApp(
        client=client,
        authorize=authorize,
        signing_secret=signing_secret,
        logger=_quiet_slack_loggers(),
    )
    if state is None:
        state = MemoryState(limiter=rate_limiter) if rate_limiter else state_from_env()
    shared = state
    undelivered = Undelivered()

    async def first_delivery(body: dict[str, Any], event: dict[str, Any]) -> bool:
        # Slack re-delivers events it thinks failed (maybe to another worker), and a mention
        # also arrives as a message.
        event_id = body.get("event_id")
        fresh_event = not event_id or await shared.first_time(f"slack:event:{event_id}")
        post = f"slack:post:{event.get('channel')}:{event.get('ts')}"
        return fresh_event and await shared.first_time(post)

    async def answer_with(
        question: str,
        user: str,
        post: Any,
        notice: Any,
        full: bool = False,
        conversation: str | None = None,
    ) -> None:
        """Answer `question` through `post(payload)`; `notice(text)` tells the asker alone; the
        question is kept as `conversation`'s context for a follow-up."""
        started = time.monotonic()
        post, notice = delivering(post), delivering(notice)
        try:
            if wait_seconds := await shared.rate_limit(f"slack:{user}"):
                wait = max(1, round(wait_seconds))
                await notice(
                    f"You're asking faster than I can answer; please try again in {wait} s."
                )
                return
            core = await _resolve(assistant)
            answer = await asyncio.to_thread(core.answer, question)  # CPU work: off the event loop
            if conversation:
                await shared.put_context(conversation, conversation_record(answer, user))
            for payload in render_payloads(answer, core, full=full):
                await post(payload)
            undelivered.delivered()
            log.info(
                "Answered %s in %.1f s (%d quotes)",
                user,
                time.monotonic() - started,
                len(answer.citations),
            )
        except Undeliverable as e:  # nobody to tell but the log, and once a minute is enough
            undelivered.failed(e)
        except Exception:
            log.exception("Answering a Slack question from %s failed", user)
            try:
                await notice(SORRY)
            except Undeliverable as e:
                undelivered.failed(e)
            except Exception:
                log.exception("Telling %s about the failure failed too", user)

    @app.command("/ask")
    async def ask(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack(text=LOOKING)  # within 3 s, before any work
        question, private = to_question(command.get("text", ""))
        response_type = "ephemeral" if private else "in_channel"

        async def post(payload: dict[str, Any]) -> None:
            result = await respond(**payload, response_type=response_type)
            if result.status_code >= 300:
                raise Undeliverable(f"response_url answered HTTP {result.status_code}")

        async def notice(text: str) -> None:
            await respond(text=escape(text), response_type="ephemeral")

        await answer_with(question, command.get("user_id", "?"), post, notice)

    @app.action(SHOW_FULL_ACTION)
    async def show_full(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()  # within 3 s, before any work
        # The button carries the question: answered again, in full, for the clicker alone.
        actions = [a for a in body.get("actions", []) if a.get("action_id") == SHOW_FULL_ACTION]
        question = unescape(str(actions[0].get("value") or "")) if actions else ""

        async def post(payload: dict[str, Any]) -> None:
            result = await respond(**payload, response_type="ephemeral", replace_original=False)
            if result.status_code >= 300:
                raise Undeliverable(f"response_url answered HTTP {result.status_code}")

        async def notice(text: str) -> None:
            await respond(text=escape(text), response_type="ephemeral", replace_original=False)

        user = (body.get("user") or {}).get("id", "?")
        await answer_with(question, user, post, notice, full=True)

    async def reply(event: dict[str, Any], client: AsyncWebClient, thread_ts: str | None) -> None:
        channel, user = event["channel"], event.get("user", "?")
        question, _ = to_question(_BOT_MENTION.sub("", event.get("text") or "", count=1))

        async def post(payload: dict[str, Any]) -> None:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **payload)

        async def notice(text: str) -> None:
            if thread_ts is None:  # a DM: only the asker reads it anyway
                await client.chat_postMessage(channel=channel, text=escape(text))
            else:
                await client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, text=escape(text)
                )

        where = f"slack:thread:{channel}:{thread_ts}" if thread_ts else f"slack:dm:{channel}"
        await answer_with(question, user, post, notice, conversation=where)

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if _ignored(event) or not await first_delivery(body, event):
            return
        await reply(event, client, thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or _ignored(event):
            return  # channel messages that mention the bot come in as app_mention
        if not await first_delivery(body, event):
            return
        await reply(event, client, thread_ts=event.get("thread_ts"))

    return app


def _web_client() -> AsyncWebClient:
    """A client with $SLACK_BOT_TOKEN, calling $SLACK_API_URL when set (a proxy, or a fake Slack
    in tests and load tests) instead of https://slack.com/api/."""
    api_url = os.environ.get("SLACK_API_URL", "").strip()
    where: dict[str, Any] = {"base_url": api_url.rstrip("/") + "/"} if api_url else {}
    return AsyncWebClient(token=os.environ.get("SLACK_BOT_TOKEN"), **where)


def _ignored(event: dict[str, Any]) -> bool:
    # bots (this one included) would answer each other forever; edits and joins are not questions
    return bool(
        event.get("bot_id")
        or event.get("bot_profile")
        or event.get("subtype")
        or event.get("edited")
    )


def _load_into(load: Callable[[], Assistant], future: concurrent.futures.Future[Assistant]) -> None:
    try:
        future.set_result(load())
        log.info("Model and documents loaded")
    except BaseException as e:  # handed to the serving loop, which says why and exits
        future.set_exception(e)


def serve(
    load: Callable[[], Assistant],
    socket_mode: bool = False,
    *,
    host: str | None = None,
    port: int | None = None,
    status: Status | None = None,
    workers: int = 1,
    sockets: list[Any] | None = None,
) -> int:
    """Run the Slack app until interrupted: HTTP on `host` (default: every interface) and `port`
    (default: $PORT, else 3000), or Socket Mode. `status` is what /healthz reports while the
    documents load. `workers` > 1: that many processes answer on the one port (HTTP only; see
    adapters/workers.py). Returns an exit code."""
    needed = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"]
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        print(f"policy-qa: set {' and '.join(missing)} (see docs/slack.md)", file=sys.stderr)
        return EXIT_CONFIG
    raw_port = os.environ.get("PORT", "").strip()
    if port is None and raw_port and not (raw_port.isascii() and raw_port.isdigit()
                                          and int(raw_port) < 65536):  # fmt: skip
        print(f"policy-qa: PORT must be a port number, not {raw_port!r}", file=sys.stderr)
        return EXIT_CONFIG
    if workers > 1 and not socket_mode:
        from adapters.workers import serve_workers  # only the parent of workers needs it

        worker = partial(serve, host=host, port=port, status=status)
        return serve_workers(worker, load, host, port or int(raw_port or 3000), workers)
    try:
        return asyncio.run(_serve(load, socket_mode, host, port, status, sockets))
    except KeyboardInterrupt:
        return 0


async def _serve(
    load: Callable[[], Assistant],
    socket_mode: bool,
    host: str | None,
    port: int | None,
    status: Status | None,
    sockets: list[Any] | None = None,
) -> int:
    future: concurrent.futures.Future[Assistant] = concurrent.futures.Future()
    client = _web_client()
    secret = os.environ.get("SLACK_SIGNING_SECRET")
    identity = BotIdentity(client)
    state = state_from_env()
    log.info("Events seen and rate limits are kept in %s", getattr(state, "where", "memory"))
    app = create_app(future, client, signing_secret=secret, identity=identity, state=state)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or Windows: Ctrl-C still ends the process
    if socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        started: Any = AsyncSocketModeHandler(app, os.environ["SLACK_APP_TOKEN"])
        where = "Socket Mode"
    else:
        if port is None:
            port = int(os.environ.get("PORT") or 3000)
        web_app = create_web_app(app, future, secret or "", status=status)
        started = WebRunner(web_app, access_log=None)
        await started.setup()
        for sock in sockets or []:  # a worker of several, on sockets its parent listens on
            await web.SockSite(started, sock, backlog=BACKLOG).start()
        if not sockets:
            await web.TCPSite(started, host=host, port=port).start()  # listen first: Slack's 3 s
        # each address: with $PORT 0, IPv4 and IPv6 get a free port each
        urls = [f"http://{a[0]}:{a[1]}" if "." in a[0] else f"http://[{a[0]}]:{a[1]}"
                for a in started.addresses]  # fmt: skip
        where = f"{' and '.join(urls)} (POST /slack/events, GET /healthz)"
    threading.Thread(
        target=_load_into, args=(load, future), name="load-assistant", daemon=True
    ).start()
    retrying: asyncio.Task[None] | None = None
    try:
        await identity.look_up()  # once; every request then uses what it found
        if socket_mode:
            await started.connect_async()
    except (SlackApiError, aiohttp.ClientError, OSError) as e:
        if isinstance(e, SlackApiError) and not cannot_reach(e):
            # exit rather than crash-loop on a revoked or mistyped token
            print(
                f"policy-qa: Slack rejected the token ({e.response.get('error')})", file=sys.stderr
            )
            await _stop(started, state)
            return EXIT_CONFIG
        if socket_mode:
            print(f"policy-qa: cannot reach Slack ({type(e).__name__})", file=sys.stderr)
            await _stop(started, state)
            return EXIT_ERROR
        # HTTP mode: keep acking (and /healthz up); the look-up goes on with backoff
        log.warning("Cannot reach Slack to look up the bot (%s); serving anyway and retrying "
                    "in the background", describe(e))  # fmt: skip
        retrying = asyncio.ensure_future(identity.keep_looking_up())
        retrying.add_done_callback(lambda _: stop.set() if identity.rejected else None)
    print(f"policy-qa: Slack app running on {where}; loading the documents…", file=sys.stderr)
    loaded: asyncio.Future[Any] = asyncio.wrap_future(future)
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    await asyncio.wait([loaded, stopped], return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if identity.rejected is not None:  # found by the background look-up
        print(f"policy-qa: Slack rejected the token ({identity.rejected})", file=sys.stderr)
        code = EXIT_CONFIG
    elif loaded.done() and loaded.exception() is not None:
        error = loaded.exception()
        if isinstance(error, PolicyQAError):  # the user's to fix: the message says how
            print(f"policy-qa: {error}", file=sys.stderr)
        else:
            log.error("Loading the assistant failed", exc_info=error)
            print(
                "policy-qa: loading the documents failed; the log above says why", file=sys.stderr
            )
        code = EXIT_KNOWLEDGE if isinstance(error, KnowledgeError) else EXIT_ERROR
    else:
        await stopped
    stopped.cancel()
    if retrying is not None:
        retrying.cancel()
    await _stop(started, state)
    return code


async def _stop(started: Any, state: SharedState) -> None:
    if isinstance(started, web.AppRunner):
        await started.cleanup()
    else:
        await started.close_async()
    await state.close()
