"""Discord adapter: /ask, @mentions, replies to its answers and DMs answered with verbatim, cited
quotes; 👍 and 👎 under each answer (adapters/discord_feedback.py).

Discord needs: an application with a bot user; the default gateway intents only, none privileged
(Message Content is not needed: Discord delivers content for DMs and messages that mention the
bot); OAuth2 scopes `bot applications.commands`; permissions View Channels, Send Messages, Send
Messages in Threads, Read Message History, Embed Links; the token in `DISCORD_TOKEN`; optionally
`DISCORD_GUILD_ID` to sync /ask to one server, where it appears at once (global sync can take
up to an hour). Setup, invite and running: docs/discord.md.

Follow-ups: a reply to one of the bot's answers follows that answer's question, a mention in a
thread the bot answered in follows the thread's last question, and a DM the DM's; the core
decides whether the question borrows from it. What a follow-up needs is kept in SharedState
(conversation_record), per thread or DM and per message the bot sent, so that it holds whichever
process answers and survives a restart when it is Redis.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord_feedback import VoteButton, vote_view
from adapters.discord_render import (
    NO_MENTIONS,
    SUPPRESS_EMBEDS,
    message_payload,
    render_payloads,
)
from adapters.feedback import record_answer
from adapters.knowledge_sets import KnowledgeSets, Loader, as_sets, find_config, load_sets
from adapters.limits import PerUserRateLimiter
from adapters.state import MemoryState, SharedState, state_from_env
from adapters.state.context import conversation_record
from assistant import Answer, Assistant
from assistant.answers import MAX_QUESTION_CHARS
from assistant.errors import ConfigurationError
from assistant.records import Recorder, open_recorder

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
UNREADABLE = (
    "I can't see what that message says: mention me in it (@ and my name, then your question)."
)
# A reply to an answer follows its question for a day; a thread or DM, for an hour of quiet.
MESSAGE_TTL = 24 * 3600.0


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


@dataclass
class Reply:
    """What the bot sends for one question: the payloads, and the answer they show (None for a
    failure or a notice), recorded as `answer_id` (None: no votes)."""

    payloads: list[dict[str, Any]]
    answer: Answer | None = None
    answer_id: str | None = None

    def messages(self) -> list[dict[str, Any]]:
        """discord.py's arguments for each message, the votes under the last."""
        sent = [_send_kwargs(payload) for payload in self.payloads]
        if self.answer_id:
            sent[-1]["view"] = vote_view(self.answer_id)
        return sent


def conversation_key(channel: Any) -> str | None:
    """Where a conversation is kept: a DM, or a thread (a mention there follows the thread's
    last question). A plain channel holds many conversations at once: there, only a reply to
    one of the bot's answers is a follow-up (of that answer's question)."""
    if isinstance(channel, discord.DMChannel):
        return f"discord:dm:{channel.id}"
    if isinstance(channel, discord.Thread):
        return f"discord:thread:{channel.id}"
    return None


def _channel_ids(channel: Any, channel_id: int | None = None) -> tuple[int | None, int | None]:
    """The channel (a thread's own id first, then its parent's), for its knowledge set."""
    return (getattr(channel, "id", channel_id), getattr(channel, "parent_id", None))


def _message_key(message_id: int) -> str:
    return f"discord:message:{message_id}"


class PolicyBot(discord.AutoShardedClient):
    """Answers /ask, @mentions, replies to its answers and DMs. Build it with `create_bot()`."""

    def __init__(
        self,
        assistant: Assistant | KnowledgeSets,
        shared: SharedState,
        guild_id: int | None = None,
        announce: Callable[[str], None] | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        # A text-only bot: the "voice will NOT be supported" warnings would only alarm operators.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # Default intents carry no privileged ones; message content still arrives for
        # mentions and DMs, which is all this bot reads.
        super().__init__(
            intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none()
        )
        self.sets = as_sets(assistant)
        self.assistant = self.sets.default_assistant
        self.shared, self.guild_id, self.recorder = shared, guild_id, recorder
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
            where = _channel_ids(interaction.channel, interaction.channel_id)
            reply = await self._answer(question, interaction.user.id, where)
            sent = [
                await interaction.followup.send(**kwargs, ephemeral=private, wait=True)
                for kwargs in reply.messages()
            ]
            if not private:  # nobody can reply to an answer only its asker sees
                await self._remember(reply, interaction.user.id, sent)

        return ask

    async def setup_hook(self) -> None:
        # Votes on any answer, this process's or one's before a restart: no state needed.
        self.add_dynamic_items(VoteButton)
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
        # A reply to one of our answers follows that answer's question, mention or not.
        replied = message.reference.message_id if message.reference else None
        earlier = await self.shared.get_context(_message_key(replied)) if replied else None
        # `mentions` holds users named explicitly; @everyone does not count as asking us.
        mentioned = any(user.id == self.user.id for user in message.mentions)
        if message.guild and not mentioned and earlier is None:
            return
        if message.guild and not message.content:
            # Discord withheld the text (no Message Content intent), as for a reply to an
            # /ask answer that does not name the bot: say how to be heard rather than guess.
            await message.channel.send(
                **_send_kwargs(message_payload(UNREADABLE)),
                reference=message.to_reference(fail_if_not_exists=False),
            )
            return
        question = re.sub(rf"<@!?{self.user.id}>", " ", message.content)
        conversation = conversation_key(message.channel)
        if earlier is None and conversation:
            earlier = await self.shared.get_context(conversation)
        previous = earlier.get("context") if earlier else None
        notice = await self._rate_limit_notice(message.author.id)
        if notice:
            reply = Reply([notice])
        else:
            async with message.channel.typing():
                where = _channel_ids(message.channel)
                reply = await self._answer(question, message.author.id, where, previous)
        # Reply to the question; should it be deleted meanwhile, answer in the channel anyway.
        reference = message.to_reference(fail_if_not_exists=False)
        first, *rest = reply.messages()
        sent = [await message.channel.send(**first, reference=reference)]
        for kwargs in rest:
            sent.append(await message.channel.send(**kwargs))
        await self._remember(reply, message.author.id, sent, conversation, previous)

    async def _remember(
        self,
        reply: Reply,
        user_id: int,
        sent: Sequence[Any],
        conversation: str | None = None,
        previous: str | None = None,
    ) -> None:
        """Keep what a follow-up needs: under the conversation (a thread, a DM), and under each
        message of the answer, so that a reply to any of them follows its question."""
        if reply.answer is None:
            return
        kept = conversation_record(reply.answer, str(user_id))
        kept["context"] = kept["context"] or previous  # "thanks!" keeps the conversation going
        try:
            if conversation:
                await self.shared.put_context(conversation, kept)
            for message in sent:
                if message is not None:
                    await self.shared.put_context(_message_key(message.id), kept, MESSAGE_TTL)
        except (TypeError, ValueError):  # a record too large: no follow-up, but the answer went
            log.exception("Keeping a Discord conversation failed")

    async def _rate_limit_notice(self, user_id: int) -> dict[str, Any] | None:
        wait = await self.shared.rate_limit(f"discord:{user_id}")
        if not wait:
            return None
        seconds = max(1, math.ceil(wait))
        return message_payload(RATE_LIMITED.format(seconds=seconds))

    async def _answer(
        self,
        question: str,
        user_id: int,
        channels: Sequence[int | None],
        previous: str | None = None,
    ) -> Reply:
        """The answer from the channel's knowledge set, read with `previous` when it is a
        follow-up, recorded, and rendered; a failure is one kind line."""
        try:
            name, core = self.sets.pick(*channels)
            asked = (question, previous) if previous else (question,)
            # Ranking is CPU work: on the loop it would stall the gateway heartbeat.
            answer = await asyncio.to_thread(core.answer, *asked)
            knowledge_set = name if self.sets.several else None
            payloads = render_payloads(answer, core, knowledge_set=knowledge_set)
        except Exception:
            # The question is the user's words: it stays out of the log.
            log.exception("Answering a Discord question failed")
            return Reply([message_payload(FAILED)])
        answer_id = record_answer(self.recorder, answer, platform="discord", user_id=str(user_id))
        return Reply(payloads, answer, answer_id)


def create_bot(
    assistant: Assistant | KnowledgeSets,
    *,
    limiter: PerUserRateLimiter | None = None,
    guild_id: int | None = None,
    announce: Callable[[str], None] | None = None,
    state: SharedState | None = None,
    recorder: Recorder | None = None,
) -> PolicyBot:
    """The bot, not yet connected: `serve()` runs it; tests drive it through a simulated Discord.
    `assistant` may be KnowledgeSets: each channel (and its threads) answered from its set.
    `state` (each user's limit, conversations) defaults to `limiter`'s in memory if given, else
    to `state_from_env()`: Redis when $POLICY_QA_REDIS_URL is set. `recorder` records every
    answer, which then gets 👍 and 👎 (none without one, or with recording off)."""
    if state is None:
        state = MemoryState(limiter=limiter) if limiter else state_from_env()
    return PolicyBot(assistant, state, guild_id, announce, recorder)


def _fail(message: str) -> int:
    print(f"policy-qa: {message}", file=sys.stderr)
    return EXIT_CONFIG


def serve(load: Loader, *, config: str | Path | None = None) -> int:
    """Run the bot until interrupted: DISCORD_TOKEN, optional DISCORD_GUILD_ID. `config`: the
    knowledge sets file (else $POLICY_QA_CONFIG, else ./policy-qa.toml if there is one);
    `load(folder, embedder=...)` loads each set, `load()` the command's own folder."""
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        return _fail("DISCORD_TOKEN is not set; see docs/discord.md to create a bot and get one.")
    guild_text = os.environ.get("DISCORD_GUILD_ID", "").strip()
    if guild_text and not guild_text.isdigit():
        return _fail("DISCORD_GUILD_ID must be a server ID (digits only).")
    try:
        sets_config = find_config(config)
        recorder = open_recorder()
    except ConfigurationError as e:
        return _fail(str(e))
    try:
        # once, before connecting: the first question must not wait for it
        sets = load_sets(sets_config, load)
        guild_id = int(guild_text) if guild_text else None
        bot = create_bot(
            sets,
            guild_id=guild_id,
            announce=lambda line: print(line, flush=True),
            recorder=recorder,
        )
    except BaseException:
        recorder.close()
        raise

    async def run() -> None:
        try:
            async with bot:
                await bot.login(token)
                await bot.connect()
        finally:
            await bot.shared.close()
            await asyncio.to_thread(recorder.close)  # writes what is queued, 5 s at most

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
