"""Slack's Web API when it cannot be reached: the bot's identity looked up once and kept, answers
that cannot be delivered logged once a minute, and no request waiting on either."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["BotIdentity", "Undeliverable", "Undelivered", "cannot_reach", "delivering", "describe"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class Undeliverable(Exception):
    """Slack could not be reached, or did not take a message; says why in a few words."""


def cannot_reach(error: BaseException) -> bool:
    """True when `error` says Slack could not be reached or did not take the call (connection
    errors, timeouts, 429 after retries, 5xx), rather than that it refused the call itself."""
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 0)
        return status == 429 or status >= 500
    return isinstance(error, aiohttp.ClientError | OSError | Undeliverable)


def delivering(send: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """`send`, raising Undeliverable when Slack cannot be reached (so that only a delivery's own
    failure counts as one, not an OSError from the core)."""

    async def sent(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await send(*args, **kwargs)
        except Exception as e:
            if cannot_reach(e) and not isinstance(e, Undeliverable):
                raise Undeliverable(describe(e)) from e
            raise

    return sent


def describe(error: BaseException) -> str:
    if isinstance(error, SlackApiError):  # its text quotes the whole response
        return f"Slack answered HTTP {getattr(error.response, 'status_code', '?')}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class BotIdentity:
    """The bot's identity (auth.test for the client's token), looked up once and kept. After a
    failure the next look-up waits 1 s, then 2, 4 … up to 60 s, however many requests come in:
    Bolt would otherwise call auth.test on every request for as long as Slack is unreachable."""

    def __init__(
        self, client: AsyncWebClient, first_wait: float = 1.0, max_wait: float = 60.0
    ) -> None:
        self.client = client
        self.known: dict[str, Any] | None = None
        self.rejected: str | None = None  # Slack's error code when it refused the token
        self.attempts = 0
        self.first_wait, self.max_wait = first_wait, max_wait
        self._wait = first_wait
        self._next_at = 0.0  # time.monotonic() before which no look-up is started
        self._running: asyncio.Task[None] | None = None

    async def look_up(self) -> None:
        """One auth.test, now. Raises what the client raises; Slack's refusal of the token is kept
        in `rejected`."""
        self.attempts += 1
        try:
            response = await self.client.auth_test()
        except Exception as e:
            self._next_at = time.monotonic() + self._wait
            self._wait = min(2 * self._wait, self.max_wait)
            if isinstance(e, SlackApiError) and not cannot_reach(e):
                self.rejected = str(e.response.get("error"))
            raise
        self.known = dict(response.data) if isinstance(response.data, dict) else {}
        if self.attempts > 1:
            log.info("Reached Slack after %d attempts", self.attempts)

    def look_up_soon(self) -> asyncio.Task[None] | None:
        """A look-up in the background, unless one is running, the identity is known or refused,
        or the backoff says wait; the one running (or None)."""
        idle = self._running is None or self._running.done()
        if idle and self.known is None and self.rejected is None:
            if time.monotonic() >= self._next_at:
                self._running = asyncio.ensure_future(self._look_up_quietly())
        return self._running if self._running and not self._running.done() else None

    async def _look_up_quietly(self) -> None:
        try:
            await self.look_up()
        except Exception as e:
            if self.rejected is not None:
                log.error("Slack rejected the token (%s)", self.rejected)
            elif cannot_reach(e):  # the first failure says it; the retries would say it again
                level = logging.WARNING if self.attempts == 1 else logging.DEBUG
                log.log(level, "Cannot reach Slack to look up the bot (%s); retrying with "
                        "backoff, up to %g s apart", describe(e), self.max_wait)  # fmt: skip
            else:
                log.exception("Looking up the bot in Slack failed")

    async def keep_looking_up(self) -> None:
        """Until Slack answers or refuses the token: what `serve` runs in the background."""
        while self.known is None and self.rejected is None:
            await asyncio.sleep(max(0.0, self._next_at - time.monotonic()))
            running = self.look_up_soon()
            if running is not None:
                await running

    def authorize(
        self, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        """Bolt's authorization for one request, from what is known: never a call to Slack."""
        self.look_up_soon()
        known = self.known or {}
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            bot_id=known.get("bot_id"),
            bot_user_id=known.get("user_id"),
            bot_token=self.client.token,
        )


class Undelivered:
    """Says in the log that answers could not be delivered to Slack: one line a minute at most
    while it lasts, and one when it ends (during an outage every question would log it)."""

    def __init__(self, every_seconds: float = 60.0) -> None:
        self.every_seconds = every_seconds
        self.count = 0  # undelivered since delivery last worked
        self._said_at = -math.inf

    def failed(self, error: Undeliverable) -> None:
        self.count += 1
        if time.monotonic() - self._said_at >= self.every_seconds:
            self._said_at = time.monotonic()
            log.warning("Could not deliver answers to Slack: %s (%d undelivered so far)",
                        error, self.count)  # fmt: skip

    def delivered(self) -> None:
        if self.count:
            log.info("Delivering answers to Slack again (%d were not delivered)", self.count)
            self.count, self._said_at = 0, -math.inf
