"""Slack adapter. Needs a Slack app (slack-manifest.yaml) with bot scopes commands,
app_mentions:read, chat:write, im:history, im:read, im:write, and Interactivity on (the buttons
and the 👎's modal post to the same URL); SLACK_BOT_TOKEN (xoxb-) and, for HTTP mode,
SLACK_SIGNING_SECRET, or, for Socket Mode, SLACK_APP_TOKEN (xapp-, connections:write).

/ask answers through response_url, an @-mention in its thread, a DM in the DM. A mention in a
thread the bot answered in, and any DM, follows the conversation's last question. `serve` is in
slack_serve.py, the votes in slack_feedback.py."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import re
import time
from collections.abc import Sequence
from typing import Any, cast

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.feedback import record_answer
from adapters.knowledge_sets import KnowledgeSets, as_sets
from adapters.limits import PerUserRateLimiter
from adapters.slack_feedback import add_feedback
from adapters.slack_http import AssistantSource, create_web_app
from adapters.slack_render import (
    SHOW_FULL_ACTION,
    escape,
    read_show_full_value,
    render_payloads,
    unescape,
)
from adapters.slack_web_api import BotIdentity, Undeliverable, Undelivered, delivering
from adapters.state import MemoryState, SharedState, state_from_env
from adapters.state.context import conversation_record
from assistant import Assistant
from assistant.records import Recorder

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


async def _resolve(source: AssistantSource) -> KnowledgeSets:
    if isinstance(source, concurrent.futures.Future):
        loading = cast("concurrent.futures.Future[Assistant | KnowledgeSets]", source)
        return as_sets(await asyncio.wrap_future(loading))
    return as_sets(source)


def to_question(text: str) -> tuple[str, bool]:
    """(question, private) from a slash command's or message's text; `private` or `--private`
    first asks for an answer only the asker sees."""
    text = unescape(text or "")
    private = bool(_PRIVATE.match(text))
    return _PRIVATE.sub("", text, count=1), private


def conversation_keys(event: dict[str, Any], dm: bool) -> tuple[str, list[str]]:
    """Where a message's conversation is kept, and where to look for what it follows: a thread
    by its ts (a channel's, or a DM's), a DM's own messages by the DM. A message in a DM thread
    that has no question yet follows the DM's last: "any message in a DM" is a follow-up."""
    channel, thread_ts = event["channel"], event.get("thread_ts")
    in_dm = f"slack:dm:{channel}"
    if dm and not thread_ts:
        return in_dm, [in_dm]
    thread = f"slack:thread:{channel}:{thread_ts or event['ts']}"
    return thread, [thread, in_dm] if dm else [thread]


def create_app(
    assistant: AssistantSource,
    client: AsyncWebClient | None = None,
    *,
    signing_secret: str | None = None,
    rate_limiter: PerUserRateLimiter | None = None,
    identity: BotIdentity | None = None,
    state: SharedState | None = None,
    recorder: Recorder | None = None,
) -> AsyncApp:
    """The Bolt app. `assistant` is an Assistant or KnowledgeSets (each channel answered from
    its set), or a Future of either still loading; `client` defaults to one with
    $SLACK_BOT_TOKEN (and $SLACK_API_URL). 429s are retried after Retry-After. The bot's identity
    is looked up once (`identity`, else on the first request), never per request. `state` (events
    seen, limits, conversations) defaults to `rate_limiter`'s in memory if given, else to
    `state_from_env()`: Redis when $POLICY_QA_REDIS_URL is set, so that workers share it.
    `recorder` records every answer posted, which then gets 👍 and 👎 (none without one, or
    with recording off)."""
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
    add_feedback(app, recorder)

    async def first_delivery(body: dict[str, Any], event: dict[str, Any]) -> bool:
        # Slack re-delivers events it thinks failed (maybe to another worker), and a mention
        # also arrives as a message.
        event_id = body.get("event_id")
        fresh_event = not event_id or await shared.first_time(f"slack:event:{event_id}")
        post = f"slack:post:{event.get('channel')}:{event.get('ts')}"
        return fresh_event and await shared.first_time(post)

    async def follows(keys: Sequence[str]) -> str | None:
        """What the conversation's last answer passes on to a follow-up (its `context`)."""
        for key in keys:
            kept = await shared.get_context(key)
            if kept and isinstance(kept.get("context"), str):
                return str(kept["context"])
        return None

    async def answer_with(
        question: str,
        user: str,
        post: Any,
        notice: Any,
        full: bool = False,
        conversation: str | None = None,
        *,
        channel: str | None = None,
        previous: str | None = None,
        follows_from: Sequence[str] = (),
    ) -> None:
        """Answer `question` through `post(payload)`, from `channel`'s knowledge set; `notice(text)`
        tells the asker alone. A follow-up is read with `previous`, else with the context kept
        under the first of `follows_from` that has one; the answer is kept as `conversation`'s
        context for the next. Recorded (with votes) unless `full`: that is a second look at an
        answer already recorded."""
        started = time.monotonic()
        post, notice = delivering(post), delivering(notice)
        try:
            if wait_seconds := await shared.rate_limit(f"slack:{user}"):
                wait = max(1, round(wait_seconds))
                await notice(
                    f"You're asking faster than I can answer; please try again in {wait} s."
                )
                return
            sets = await _resolve(assistant)
            name, core = sets.pick(channel)
            previous = previous or await follows(follows_from)
            # (without one, as before: a stand-in for the core may take the question alone)
            asked = (question, previous) if previous else (question,)
            answer = await asyncio.to_thread(core.answer, *asked)  # CPU work: off the event loop
            if conversation:
                kept = conversation_record(answer, user)
                # "thanks!" between two questions keeps the conversation going, as in `chat`
                kept["context"] = kept["context"] or previous
                await shared.put_context(conversation, kept)
            answer_id = (
                None if full else record_answer(recorder, answer, platform="slack", user_id=user)
            )
            for payload in render_payloads(
                answer,
                core,
                full=full,
                answer_id=answer_id,
                knowledge_set=name if sets.several else None,
                previous=previous,
            ):
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

        user, channel = command.get("user_id", "?"), command.get("channel_id")
        await answer_with(question, user, post, notice, channel=channel)

    @app.action(SHOW_FULL_ACTION)
    async def show_full(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()  # within 3 s, before any work
        # The button carries the question (and a follow-up's previous one): answered again, in
        # full, for the clicker alone.
        actions = [a for a in body.get("actions", []) if a.get("action_id") == SHOW_FULL_ACTION]
        value = str(actions[0].get("value") or "") if actions else ""
        question, previous = read_show_full_value(value)

        async def post(payload: dict[str, Any]) -> None:
            result = await respond(**payload, response_type="ephemeral", replace_original=False)
            if result.status_code >= 300:
                raise Undeliverable(f"response_url answered HTTP {result.status_code}")

        async def notice(text: str) -> None:
            await respond(text=escape(text), response_type="ephemeral", replace_original=False)

        user = (body.get("user") or {}).get("id", "?")
        channel = (body.get("channel") or {}).get("id")
        await answer_with(
            question, user, post, notice, full=True, channel=channel, previous=previous
        )

    async def reply(
        event: dict[str, Any], client: AsyncWebClient, thread_ts: str | None, dm: bool
    ) -> None:
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

        where, earlier = conversation_keys(event, dm)
        await answer_with(
            question, user, post, notice, conversation=where, channel=channel, follows_from=earlier
        )

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if _ignored(event) or not await first_delivery(body, event):
            return
        await reply(event, client, thread_ts=event.get("thread_ts") or event["ts"], dm=False)

    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or _ignored(event):
            return  # channel messages that mention the bot come in as app_mention
        if not await first_delivery(body, event):
            return
        await reply(event, client, thread_ts=event.get("thread_ts"), dm=True)

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


def serve(load: Any, socket_mode: bool = False, **options: Any) -> int:
    """Run the Slack app until stopped (HTTP, several workers, or Socket Mode): see
    adapters.slack_serve.serve for the options. Returns an exit code."""
    from adapters.slack_serve import serve as run  # it imports this module

    return run(load, socket_mode, **options)
