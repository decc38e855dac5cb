"""Discord adapter: /ask, @mentions and DMs answered with verbatim, cited quotes.

Discord needs: an application with a bot user; the default gateway intents only, none privileged
(Message Content is not needed: Discord delivers content for DMs and messages that mention the
bot); OAuth2 scopes `bot applications.commands`; permissions View Channels, Send Messages, Send
Messages in Threads, Read Message History, Embed Links; the token in `DISCORD_TOKEN`; optionally
`DISCORD_GUILD_ID` to sync /ask to one server, where it appears at once (global sync can take
up to an hour). Setup, invite and running: docs/discord.md.

The client is an `AutoShardedClient`: Discord says how many shards the bot needs (one below
1,000 servers or so; sharding is required from 2,500) and one process runs them all.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord_render import (
    NO_MENTIONS,
    SUPPRESS_EMBEDS,
    message_payload,
    render_payloads,
)
from adapters.limits import PerUserRateLimiter
from adapters.state import MemoryState, SharedState, state_from_env
from assistant import Assistant
from assistant.answers import MAX_QUESTION_CHARS

__all__ = ["create_bot", "render_payloads", "serve"]

log = logging.getLogger(__name__)

EXIT_ERROR, EXIT_CONFIG = 1, 4  # the CLI's exit codes
SCOPES = ("bot", "applications.commands")
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    read_message_history=True,
    embed_links=True,
)
RATE_LIMITED = "You're asking faster than I can answer. Please try again in {seconds} s."
FAILED = "Sorry, something went wrong while answering that. Please try again in a moment."


def _send_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload as discord.py arguments: the one path from rendering to sending."""
    if payload["allowed_mentions"] != NO_MENTIONS:
        raise ValueError("payloads must not allow mentions")
    return {
        "content": payload["content"],
        "allowed_mentions": discord.AllowedMentions.none(),
        # a URL quoted from a document gets no preview card
        "suppress_embeds": bool(payload.get("flags", 0) & SUPPRESS_EMBEDS),
    }


class PolicyBot(discord.AutoShardedClient):
    """Answers /ask, @mentions and DMs. Build it with `create_bot()`."""

    def __init__(
        self,
        assistant: Assistant,
        shared: SharedState,
        guild_id: int | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        # A text-only bot: the "voice will NOT be supported" warnings would only alarm operators.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # Default intents carry no privileged ones; message content still arrives for
        # mentions and DMs, which is all this bot reads.
        super().__init__(
            intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none()
        )
        self.assistant, self.shared, self.guild_id = assistant, shared, guild_id
        self.announce = announce or (lambda line: log.info("%s", line))
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(self._ask_command())

    def _ask_command(self) -> app_commands.Command[Any, Any, None]:
        @app_commands.command(name="ask", description="Ask the documents; answers quote them.")
        @app_commands.describe(question="Your question", private="Only you see the answer")
        async def ask(
            interaction: discord.Interaction,
            question: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
            private: bool = False,
        ) -> None:
            if notice := await self._rate_limit_notice(interaction.user.id):
                await interaction.response.send_message(**_send_kwargs(notice), ephemeral=True)
                return
            # First response within 3 s or the interaction dies (10062): defer, then answer.
            await interaction.response.defer(thinking=True, ephemeral=private)
            for payload in await self._answer_payloads(question):
                await interaction.followup.send(**_send_kwargs(payload), ephemeral=private)

        return ask

    async def setup_hook(self) -> None:
        if self.application_id:
            url = discord.utils.oauth_url(
                self.application_id, permissions=PERMISSIONS, scopes=SCOPES
            )
            self.announce(f"Invite the bot: {url}")
        guild = discord.Object(self.guild_id) if self.guild_id else None
        if guild:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden:
            log.error(
                "Cannot register /ask in server %s: invite the bot there first", self.guild_id
            )
            return
        log.info("Synced %d command(s) %s", len(synced), f"to {guild.id}" if guild else "globally")

    async def on_message(self, message: discord.Message) -> None:
        # Never answer a bot, ourselves included: two bots can talk forever.
        if message.author.bot or self.user is None:
            return
        # `mentions` holds users named explicitly; @everyone does not count as asking us.
        if message.guild and not any(user.id == self.user.id for user in message.mentions):
            return
        question = re.sub(rf"<@!?{self.user.id}>", " ", message.content)
        notice = await self._rate_limit_notice(message.author.id)
        if notice:
            payloads = [notice]
        else:
            async with message.channel.typing():
                payloads = await self._answer_payloads(question)
        # Reply to the question; should it be deleted meanwhile, answer in the channel anyway.
        reference = message.to_reference(fail_if_not_exists=False)
        first, *rest = payloads
        await message.channel.send(**_send_kwargs(first), reference=reference)
        for payload in rest:
            await message.channel.send(**_send_kwargs(payload))

    async def _rate_limit_notice(self, user_id: int) -> dict[str, Any] | None:
        wait = await self.shared.rate_limit(f"discord:{user_id}")
        if not wait:
            return None
        seconds = max(1, math.ceil(wait))
        return message_payload(RATE_LIMITED.format(seconds=seconds))

    async def _answer_payloads(self, question: str) -> list[dict[str, Any]]:
        try:
            # Ranking is CPU work: on the loop it would stall the gateway heartbeat.
            answer = await asyncio.to_thread(self.assistant.answer, question)
            return render_payloads(answer, self.assistant)
        except Exception:
            # The question is the user's words: it stays out of the log.
            log.exception("Answering a Discord question failed")
            return [message_payload(FAILED)]


def create_bot(
    assistant: Assistant,
    *,
    limiter: PerUserRateLimiter | None = None,
    guild_id: int | None = None,
    announce: Callable[[str], None] | None = None,
    state: SharedState | None = None,
) -> PolicyBot:
    """The bot, not yet connected: `serve()` runs it; tests drive it through a simulated Discord.
    `state` (each user's limit) defaults to `limiter`'s in memory if given, else to
    `state_from_env()`: Redis when $POLICY_QA_REDIS_URL is set."""
    if state is None:
        state = MemoryState(limiter=limiter) if limiter else state_from_env()
    return PolicyBot(assistant, state, guild_id, announce)


def _fail(message: str) -> int:
    print(f"policy-qa: {message}", file=sys.stderr)
    return EXIT_CONFIG


def serve(load: Callable[[], Assistant]) -> int:
    """Run the bot until interrupted: DISCORD_TOKEN, optional DISCORD_GUILD_ID."""
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        return _fail("DISCORD_TOKEN is not set; see docs/discord.md to create a bot and get one.")
    guild_text = os.environ.get("DISCORD_GUILD_ID", "").strip()
    if guild_text and not guild_text.isdigit():
        return _fail("DISCORD_GUILD_ID must be a server ID (digits only).")
    assistant = load()  # once, before connecting: the first question must not wait for it
    guild_id = int(guild_text) if guild_text else None
    bot = create_bot(assistant, guild_id=guild_id, announce=lambda line: print(line, flush=True))

    async def run() -> None:
        try:
            async with bot:
                await bot.login(token)
                await bot.connect()
        finally:
            await bot.shared.close()

    try:
        asyncio.run(run())
    except discord.LoginFailure:
        # Exit, don't retry: 1,000 logins a day reset the token.
        return _fail("Discord rejected DISCORD_TOKEN; reset it in the Developer Portal (Bot tab).")
    except (OSError, aiohttp.ClientError) as e:  # no network: not a bug, so no traceback
        print(
            f"policy-qa: cannot reach Discord ({type(e).__name__}); check the network.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0
