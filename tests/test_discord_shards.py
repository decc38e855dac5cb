"""The Discord bot as an AutoShardedClient, and its limit kept in shared state: through simcord."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.discord_bot import create_bot
from adapters.state.redis import RedisState
from assistant import Assistant
from tests.fake_discord import discord_world
from tests.redis_server import redis_url, unique_prefix

KASPERSKY = "Why was Kaspersky banned?"


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    yield from redis_url()


async def test_servers_on_different_shards_are_answered(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant), shard_count=2) as world:
        assert world.bot.user is not None and world.bot.shard_count == 2
        answered = []
        for shard in (0, 1):
            guild = world.env.create_guild(f"shard {shard}", shard_id=shard)
            channel = guild.create_text_channel("general")
            member = guild.add_member(world.env.create_user(f"user{shard}"))
            await member.send(channel, f"<@{world.bot.user.id}> {KASPERSKY}")
            replies = world.bot_messages(channel)
            assert world.bot.get_guild(guild.id).shard_id == shard  # type: ignore[union-attr]
            answered.append(bool(replies) and "From the documents:" in replies[0].content)
    assert answered == [True, True]


async def test_the_limit_is_shared_through_redis(assistant: Assistant, redis: str) -> None:
    """Five questions, then the sixth is refused, and another process sees the same bucket."""
    prefix = unique_prefix()  # the states are made in the test's own event loop
    mine, another_process = (RedisState.from_url(redis, prefix=prefix) for _ in range(2))
    async with discord_world(create_bot(assistant, state=mine)) as world:
        for _ in range(5):
            result = await world.alice.slash(world.channel, "ask", question=KASPERSKY)
            assert result.response is not None and "From the documents:" in result.response.content
        sixth = await world.alice.slash(world.channel, "ask", question=KASPERSKY)
        bob = await world.bob.slash(world.channel, "ask", question=KASPERSKY)
    assert sixth.ephemeral and sixth.response is not None
    assert sixth.response.content.startswith("You're asking faster than I can answer.")
    assert bob.response is not None and "From the documents:" in bob.response.content
    assert await another_process.rate_limit(f"discord:{world.alice.id}") > 0
    assert await another_process.rate_limit(f"discord:{world.bob.id}") == 0.0
    await mine.close()
    await another_process.close()
