"""Slack's HTTP front: signed requests in, 401 or 400 out for anything else, never a 500.

Slack signs `v0:{timestamp}:{raw body}` with the app's signing secret (HMAC-SHA256) and sends
commands and interactivity as forms, events as JSON; it waits 3 s for an answer."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from assistant import Assistant

__all__ = ["AssistantSource", "create_web_app", "unsigned"]

log = logging.getLogger(__name__)

# An assistant, or one still loading in a background thread (so HTTP mode acks within 3 s).
AssistantSource = Assistant | concurrent.futures.Future[Assistant]

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


def create_web_app(
    app: AsyncApp, assistant: AssistantSource, signing_secret: str
) -> web.Application:
    """HTTP mode: POST /slack/events (signed requests only) and GET /healthz."""

    async def events(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
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
        return web.json_response({"model_loaded": _is_loaded(assistant)})

    web_app = web.Application()
    web_app.add_routes([web.post("/slack/events", events), web.get("/healthz", healthz)])
    return web_app
