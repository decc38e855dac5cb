"""A local fake of Slack for the adapter's tests: its Web API and response_url on loopback, recording
what they receive, and a client that sends correctly signed requests to the app under test
(after bolt-python's tests/mock_web_api_server)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

SECRET = "signing-secret-SENTINEL-5ec7e7"


class FakeSlack:
    """A local Slack Web API (/api/<method>) and response_url (/response/<n>), recording bodies."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], float]] = []
        self.rate_limit_next = 0  # answer this many chat.postMessage calls with 429
        self.auth_error: str | None = None  # auth.test's error, as for a revoked token
        self.down = False  # answer every call 503, as Slack's edge does during an outage
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(
            [web.post("/api/{method}", self.api), web.post("/response/{n}", self.response)]
        )
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        return dict(await request.post())

    async def api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.calls.append((method, await self._body(request), time.monotonic()))
        if self.down:
            return web.Response(status=503, text="upstream connect error")
        if method == "chat.postMessage" and self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        if method == "auth.test" and self.auth_error:
            return web.json_response({"ok": False, "error": self.auth_error})
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "qa"}
            )
        return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "channel": "C1"})

    async def response(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(("response_url", await self._body(request), time.monotonic()))
        return web.Response(status=503 if self.down else 200, text="ok")

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        return [body for name, body, _ in self.calls if name == method]

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.posted(method)) < count:
            assert time.monotonic() < deadline, f"no {method} within {timeout} s: {self.calls}"
            await asyncio.sleep(0.02)
        return self.posted(method)


class Running:
    """The app under test, served on loopback exactly as `serve()` serves it."""

    def __init__(self, url: str, session: aiohttp.ClientSession, secret: str = SECRET) -> None:
        self.url, self.session, self.secret = url, session, secret

    def now(self) -> str:
        return str(int(time.time()))

    def signed(
        self,
        body: bytes,
        content_type: str,
        timestamp: str | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        """Headers that sign `body` as Slack does, with the app's secret unless told otherwise."""
        timestamp = timestamp if timestamp is not None else self.now()
        key = (secret or self.secret).encode()
        signed = b"v0:" + timestamp.encode() + b":" + body
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + hmac.new(key, signed, hashlib.sha256).hexdigest(),
        }

    async def send(
        self,
        body: str | bytes,
        content_type: str,
        timestamp: str | None = None,
        secret: str | None = None,
    ) -> tuple[int, float]:
        raw = body.encode() if isinstance(body, str) else body
        headers = self.signed(raw, content_type, timestamp, secret)
        started = time.monotonic()
        async with self.session.post(f"{self.url}/slack/events", data=raw, headers=headers) as resp:
            await resp.read()
            return resp.status, time.monotonic() - started

    async def command(
        self, text: str, response_url: str, user: str = "U1", channel: str = "C1", **kwargs: Any
    ) -> tuple[int, float]:
        form = {"command": "/ask", "text": text, "user_id": user, "channel_id": channel,
                "team_id": "T1", "response_url": response_url, "trigger_id": "1.2.3"}  # fmt: skip
        return await self.send(urlencode(form), "application/x-www-form-urlencoded", **kwargs)

    async def event(
        self, event: dict[str, Any], event_id: str = "Ev1", **kwargs: Any
    ) -> tuple[int, float]:
        authorizations = [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}]
        body = {"team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event": event,
                "event_id": event_id, "event_time": int(time.time()),
                "authorizations": authorizations}  # fmt: skip
        return await self.send(json.dumps(body), "application/json", **kwargs)

    async def click(
        self,
        value: str,
        response_url: str,
        user: str = "U1",
        action_id: str = "show_full_quotes",
        **kwargs: Any,
    ) -> tuple[int, float]:
        """A button click (`block_actions`), as Slack sends it: a form whose `payload` is JSON."""
        action = {"type": "button", "action_id": action_id, "block_id": "B1", "value": value,
                  "text": {"type": "plain_text", "text": "Show full quotes"},
                  "action_ts": f"{time.time():.6f}"}  # fmt: skip
        payload = {"type": "block_actions", "team": {"id": "T1", "domain": "t1"},
                   "user": {"id": user, "team_id": "T1"}, "api_app_id": "A1",
                   "container": {"type": "message", "message_ts": "1700000000.000500",
                                 "channel_id": "D1", "is_ephemeral": False},
                   "trigger_id": "1.2.3", "channel": {"id": "D1", "name": "directmessage"},
                   "message": {"type": "message", "ts": "1700000000.000500", "text": "…"},
                   "response_url": response_url, "actions": [action]}  # fmt: skip
        form = urlencode({"payload": json.dumps(payload)})
        return await self.send(form, "application/x-www-form-urlencoded", **kwargs)

    async def submit_view(
        self, view: dict[str, Any], values: dict[str, dict[str, str]], user: str = "U1"
    ) -> tuple[int, float]:
        """A modal's submission (`view_submission`), as Slack sends it: `view` as the app opened
        it, with `values` typed into it ({block_id: {action_id: text}})."""
        state = {block: {action: {"type": "plain_text_input", "value": text}
                         for action, text in inputs.items()}
                 for block, inputs in values.items()}  # fmt: skip
        payload = {"type": "view_submission", "team": {"id": "T1", "domain": "t1"},
                   "user": {"id": user, "team_id": "T1"}, "api_app_id": "A1",
                   "trigger_id": "4.5.6",
                   "view": {**view, "id": "V1", "team_id": "T1", "app_id": "A1",
                            "state": {"values": state}}}  # fmt: skip
        form = urlencode({"payload": json.dumps(payload)})
        return await self.send(form, "application/x-www-form-urlencoded")

    async def health(self) -> dict[str, Any]:
        async with self.session.get(f"{self.url}/healthz") as resp:
            assert resp.status == 200
            return dict(await resp.json())


def dm(text: str, ts: str = "1700000000.000100", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "D1",
        "user": "U1",
        "text": text,
        "ts": ts,
        **extra,
    }


def mention(text: str, ts: str = "1700000000.000200", **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "channel": "C1",
        "user": "U1",
        "text": f"<@UBOT> {text}",
        "ts": ts,
        **extra,
    }
