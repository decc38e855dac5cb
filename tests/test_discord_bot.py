"""The Discord adapter end to end: the real core, a simulated Discord (simcord) at the edge."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from adapters import discord_bot
from adapters.discord_bot import FAILED, create_bot, render_payloads
from adapters.limits import PerUserRateLimiter
from assistant import Assistant
from tests.doubles import BrokenAssistant, SlowAssistant
from tests.fake_discord import discord_world
from tests.test_discord_render import KASPERSKY, ZWSP, assert_no_live_mentions


async def test_everyone_in_a_document_is_defanged(cache_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "notice.md").write_text(
        "---\ntitle: Office notice\npublisher: Facilities\n---\n"
        "@everyone the office lifts are closed for repairs on Friday, says <@&123456789012345678>, "
        "so please use the stairs near the kitchen; @here applies to visitors as well.\n",
        encoding="utf-8",
    )
    notices = Assistant.load(tmp_path, cache_dir=cache_dir)
    answer = notices.answer("Why are the office lifts closed on Friday?")
    assert answer.answered and "@everyone" in answer.citations[0].quote
    payload = render_payloads(answer, notices)[0]
    assert payload["allowed_mentions"] == {"parse": []}
    assert_no_live_mentions(payload["content"])
    assert f"@{ZWSP}everyone the office lifts" in payload["content"]

    async with discord_world(create_bot(notices)) as world:  # the same payload, really sent
        result = await world.alice.slash(world.channel, "ask", question=answer.question)
    assert result.response is not None and result.response.content == payload["content"]
    assert not result.response.message.mention_everyone
    assert world.posted("webhooks")[0]["allowed_mentions"]["parse"] == []


# --- the bot, through a simulated Discord --------------------------------------------------


async def test_slash_ask_defers_then_answers_as_follow_up(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        result = await world.alice.slash(world.channel, "ask", question=KASPERSKY)
    expected = render_payloads(assistant.answer(KASPERSKY), assistant)
    assert world.posted("callback") == [{"type": 5}]  # deferred: "thinking…", visible to all
    assert [body["content"] for body in world.posted("webhooks")] == [
        p["content"] for p in expected
    ]
    assert result.response is not None and result.response.content == expected[0]["content"]
    assert not result.ephemeral
    requests = [e.path.split("/")[1] for e in world.env.http_requests if e.method == "POST"]
    assert requests.index("interactions") < requests.index("webhooks")


async def test_answers_suppress_link_previews(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        assert world.bot.user is not None
        await world.alice.slash(world.channel, "ask", question=KASPERSKY)
        await world.alice.send(world.channel, f"<@{world.bot.user.id}> {KASPERSKY}")
        await world.alice.send_dm(KASPERSKY)
        replies = world.bot_messages()
    sent = world.posted("webhooks") + world.posted("messages")
    assert len(sent) == 3  # the follow-up, the reply to the mention, the DM
    for body in sent:  # MessageFlags.suppress_embeds, as Discord receives it
        assert body["flags"] & 4 and body["allowed_mentions"]["parse"] == []
    assert replies and all(m.flags.suppress_embeds for m in replies)


async def test_slash_ask_private_is_ephemeral(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        result = await world.alice.slash(world.channel, "ask", question=KASPERSKY, private=True)
    assert world.posted("callback") == [{"type": 5, "data": {"flags": 64}}]
    assert result.ephemeral and result.response is not None and result.response.ephemeral
    assert "Kaspersky" in result.response.content
    assert world.bot_messages() == [] or all(m.flags.ephemeral for m in world.bot_messages())


async def test_mention_is_answered_as_a_reply(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with discord_world(create_bot(assistant)) as world:
        assert world.bot.user is not None
        asked = await world.alice.send(world.channel, f"<@{world.bot.user.id}> {KASPERSKY}")
        replies = world.bot_messages()
    expected = render_payloads(assistant.answer(KASPERSKY), assistant)
    assert len(replies) == len(expected)
    assert replies[0].reference is not None and replies[0].reference.message_id == asked.id
    # bot mention stripped from the echo; the rest of a long answer follows in order
    assert [r.content for r in replies] == [p["content"] for p in expected]
    assert KASPERSKY not in caplog.text  # the user's words stay out of the log


async def test_everyone_in_a_question_never_pings(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        assert world.bot.user is not None
        question = f"<@{world.bot.user.id}> @everyone @here <@{world.bob.id}> {KASPERSKY}"
        await world.alice.send(world.channel, question)
        replies = world.bot_messages()
    bodies = world.posted("messages")
    assert bodies and len(bodies) == len(replies)
    for body, reply in zip(bodies, replies, strict=True):
        mentions = body["allowed_mentions"]
        assert mentions["parse"] == [] and not mentions.get("replied_user")
        assert not mentions.get("users") and not mentions.get("roles")
        assert_no_live_mentions(body["content"])
        assert not reply.mention_everyone and reply.mentions == []
    assert f"@{ZWSP}everyone @{ZWSP}here <@{ZWSP}{world.bob.id}>" in bodies[0]["content"]


async def test_direct_message_is_answered_once(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        await world.alice.send_dm(KASPERSKY)
        dm = world.alice.user.dm_channel
        messages = dm.history()
    # One answer, not a loop: the bot's own reply in the DM reaches it and is ignored.
    bot_replies = [m for m in messages if m.author.bot]
    expected = render_payloads(assistant.answer(KASPERSKY), assistant)
    assert len(messages) == 1 + len(expected) and len(bot_replies) == len(expected)
    assert sum("**Asked:** Why was Kaspersky banned?" in m.content for m in bot_replies) == 1


async def test_other_bots_are_ignored(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        assert world.bot.user is not None
        other = world.channel  # a bot in the same server mentions ours
        robot = world.env.guild.add_member(world.env.create_user("robot", bot=True))
        await robot.send(other, f"<@{world.bot.user.id}> {KASPERSKY}")
        await robot.send_dm(KASPERSKY)
    assert world.posted("messages") == []


async def test_slow_core_still_defers_within_3_seconds(assistant: Assistant) -> None:
    bot = create_bot(SlowAssistant(assistant, 5.0))  # type: ignore[arg-type]
    async with discord_world(bot, settle_timeout=30) as world:
        started = time.perf_counter()
        asking = asyncio.create_task(world.alice.slash(world.channel, "ask", question=KASPERSKY))
        longest_gap, last = 0.0, time.perf_counter()
        deferred_after = None
        while not asking.done():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            longest_gap, last = max(longest_gap, now - last), now
            if deferred_after is None and world.posted("callback"):
                deferred_after = now - started
        result = await asking
        answered_after = time.perf_counter() - started
    print(f"defer after {deferred_after:.3f} s; answer after {answered_after:.2f} s")
    assert deferred_after is not None and deferred_after < 3.0
    assert answered_after >= 5.0 and result.response is not None
    assert "Kaspersky" in result.response.content
    assert longest_gap < 1.0  # the loop (and so the gateway heartbeat) kept running


async def test_per_user_rate_limit_spares_other_users(assistant: Assistant) -> None:
    limiter = PerUserRateLimiter(burst=1, per_seconds=60)
    async with discord_world(create_bot(assistant, limiter=limiter)) as world:
        assert world.bot.user is not None
        first = await world.alice.slash(world.channel, "ask", question=KASPERSKY)
        second = await world.alice.slash(world.channel, "ask", question=KASPERSKY)
        other = await world.bob.slash(world.channel, "ask", question=KASPERSKY)
        await world.alice.send(world.channel, f"<@{world.bot.user.id}> {KASPERSKY}")
        reply = world.bot_messages()[-1]
    assert first.response is not None and "From the documents:" in first.response.content
    assert second.ephemeral and second.response is not None
    assert second.response.content.startswith("You're asking faster than I can answer.")
    assert "try again in 60 s" in second.response.content
    assert other.response is not None and "From the documents:" in other.response.content
    assert reply.content.startswith("You're asking faster")


async def test_internal_error_gets_a_kind_reply_and_is_logged(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    bot = create_bot(BrokenAssistant(assistant, 0))  # type: ignore[arg-type]
    async with discord_world(bot) as world:
        result = await world.alice.slash(world.channel, "ask", question=KASPERSKY)
    assert result.response is not None and result.response.content == FAILED
    assert "corrupt" not in result.response.content and "Traceback" not in result.response.content
    (record,) = [r for r in caplog.records if r.name == "adapters.discord_bot"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "index file is corrupt" in caplog.text and KASPERSKY not in caplog.text


async def test_invite_url_has_the_scopes_and_minimal_permissions(assistant: Assistant) -> None:
    announced: list[str] = []
    async with discord_world(create_bot(assistant, announce=announced.append)) as world:
        application_id = world.bot.application_id
    (line,) = announced
    expected = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 38)
    assert f"client_id={application_id}" in line
    assert f"permissions={expected}" in line and "scope=bot+applications.commands" in line


# --- serve ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`serve` opens the records database: in the test's folder, never the user's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("POLICY_QA_DATABASE_URL", raising=False)


def test_serve_without_token_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    loaded: list[bool] = []

    def load() -> Assistant:
        loaded.append(True)
        raise AssertionError("no token: nothing should be loaded")

    assert discord_bot.serve(load) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DISCORD_TOKEN" in err and not loaded


def test_rejected_token_exits_4_once_and_never_logs_it(
    assistant: Assistant,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sentinel = "SENTINEL-TOKEN.do-not-log.3f9a"
    logins: list[str] = []

    async def rejecting_login(self: Any, token: str) -> Any:  # Discord's answer: 401
        logins.append(token)
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", rejecting_login)
    monkeypatch.setenv("DISCORD_TOKEN", sentinel)
    monkeypatch.delenv("DISCORD_GUILD_ID", raising=False)
    caplog.set_level(logging.DEBUG)
    assert discord_bot.serve(lambda: assistant) == 4
    out, err = capsys.readouterr()
    assert logins == [sentinel]  # one attempt, no crash loop
    assert err.count("\n") == 1 and "rejected DISCORD_TOKEN" in err
    assert sentinel not in out + err + caplog.text


def test_unreachable_discord_is_one_line_not_a_traceback(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def offline_login(self: Any, token: str) -> Any:
        raise aiohttp.ClientConnectionError("Cannot connect to host discord.com:443")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", offline_login)
    monkeypatch.setenv("DISCORD_TOKEN", "SENTINEL-TOKEN.offline")
    monkeypatch.delenv("DISCORD_GUILD_ID", raising=False)
    assert discord_bot.serve(lambda: assistant) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach Discord" in err and "SENTINEL" not in err


def test_bad_guild_id_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "SENTINEL-TOKEN")
    monkeypatch.setenv("DISCORD_GUILD_ID", "my-server")
    assert discord_bot.serve(lambda: pytest.fail("loaded before checking settings")) == 4
