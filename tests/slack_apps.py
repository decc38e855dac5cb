"""The real Slack app as `serve` runs it, on loopback, its Web API the fake Slack: for the tests
that start one or several (each call a new process, as far as the app can tell)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from adapters.limits import PerUserRateLimiter
from adapters.slack_app import create_app, create_web_app
from adapters.slack_http import WebRunner
from tests.fake_slack import SECRET, FakeSlack, Running

TOKEN = "xoxb-SENTINEL-T0KEN-0000"

StartApp = Callable[..., Awaitable[Running]]


@asynccontextmanager
async def app_server(slack: FakeSlack) -> AsyncIterator[StartApp]:
    """`start(source, limiter=, api=, status=, **create_app's options)`: a new app listening on
    a free loopback port, its client calling `api` (default: the fake Slack); all stopped at
    the end."""
    runners: list[web.AppRunner] = []
    session = aiohttp.ClientSession()

    async def start(
        source: Any,
        limiter: PerUserRateLimiter | None = None,
        api: str | None = None,
        status: Any = None,
        **options: Any,
    ) -> Running:
        client = AsyncWebClient(token=TOKEN, base_url=api or f"{slack.url}/api/")
        app = create_app(source, client, signing_secret=SECRET, rate_limiter=limiter, **options)
        runner = WebRunner(create_web_app(app, source, SECRET, status=status), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return Running(f"http://127.0.0.1:{runner.addresses[0][1]}", session)

    try:
        yield start
    finally:
        await asyncio.sleep(0.1)  # let background listeners finish before their loop goes on
        await session.close()
        for runner in runners:
            await runner.cleanup()
