"""A simulated Discord (simcord's gateway and REST API, in process) around the bot under test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
import simcord

from adapters import discord_bot


@dataclass
class World:
    env: simcord.Env
    bot: discord_bot.PolicyBot
    channel: simcord.ChannelHandle
    alice: simcord.MemberActor
    bob: simcord.MemberActor

    def bot_messages(self, channel: simcord.ChannelHandle | None = None) -> list[discord.Message]:
        history = (channel or self.channel).history()
        return [m for m in history if self.bot.user and m.author.id == self.bot.user.id]

    def thread(self, name: str = "questions") -> simcord.ChannelHandle:
        """A public thread in the channel, opened by alice (simcord has no builder for one)."""
        backend = self.env.backend
        opened = backend.create_thread(self.channel.id, name, self.alice.id)
        return simcord.ChannelHandle(self.env, self.channel.guild, opened)

    def channel_named(self, name: str) -> simcord.ChannelHandle:
        assert self.channel.guild is not None
        return self.channel.guild.create_text_channel(name)

    async def restart(self, bot: discord_bot.PolicyBot) -> None:
        """The bot stopped and a new one started in its place, on the same Discord."""
        await self.env.restart_bot(bot)
        self.bot = bot

    def posted(self, kind: str) -> list[Any]:
        """JSON bodies the bot sent: 'messages', 'callback' (interaction) or 'webhooks'."""
        return [
            e.json
            for e in self.env.http_requests
            if e.method == "POST" and (kind in e.path.split("/")[1] or e.path.endswith(kind))
        ]


@asynccontextmanager
async def discord_world(bot: discord_bot.PolicyBot, **options: Any) -> AsyncIterator[World]:
    # The bot is an AutoShardedClient, which asks Discord how many shards it needs: simcord
    # is told instead.
    options.setdefault("shard_count", 1)
    async with simcord.run(bot, **options) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("general")
        alice = guild.add_member(env.create_user("alice"))
        bob = guild.add_member(env.create_user("bob"))
        yield World(env, bot, channel, alice, bob)
