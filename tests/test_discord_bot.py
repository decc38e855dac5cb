"""The Discord adapter end to end: the real core, a simulated Discord (simcord) at the edge."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from adapters import discord_bot
from adapters.discord_bot import FAILED, create_bot, render_payloads
from adapters.limits import PerUserRateLimiter
from assistant import Answer, Assistant, Citation
from assistant.answers import SURE_HEADER, UNSURE, answering_clause, shown_spans
from tests.doubles import BrokenAssistant, SlowAssistant
from tests.fake_discord import discord_world

KASPERSKY = "Why was Kaspersky banned?"
ZWSP = "\u200b"


def assert_within_discord_limits(payload: dict[str, Any]) -> None:
    json.dumps(payload)  # JSON-able, as the CLI prints it
    assert payload["allowed_mentions"] == {"parse": []}
    assert 0 < len(payload["content"]) <= 2000
    embeds = payload.get("embeds", [])
    assert len(embeds) <= 10
    for embed in embeds:
        assert len(embed.get("description", "")) <= 4096
        assert len(embed.get("fields", [])) <= 25
        assert len(discord.Embed.from_dict(embed)) <= 6000


def assert_no_live_mentions(text: str) -> None:
    assert not re.search(r"@(everyone|here)|<@[!&]?\d", text), text


# --- rendering ----------------------------------------------------------------------------


def test_payloads_quote_and_cite_each_passage(assistant: Assistant) -> None:
    answer = assistant.answer(KASPERSKY)
    payloads = render_payloads(answer, assistant)
    assert answer.answered and payloads
    for payload in payloads:
        assert_within_discord_limits(payload)
    content = "\n".join(p["content"] for p in payloads)
    assert content.startswith(f"**Asked:** {KASPERSKY}")
    doc = assistant.documents[0]
    for citation in answer.citations:
        first_words = " ".join(citation.quote.split()[:4])
        lines = content.replace("**", "").split("\n")  # unbold the highlighted clause
        quote_line = next(line for line in lines if first_words in line)
        assert quote_line.startswith("> ")
        assert f"paragraph {citation.locator.split()[-1]}" in content
    # Each attribution links the title (shortened; <...> keeps Discord from adding a preview)
    assert content.count(f"](<{doc.url}>) · paragraph ") == len(answer.citations)
    speakers = [c.speaker or "narration" for c in answer.citations]
    assert sum(content.count(f"— {s} · ") for s in set(speakers)) == len(answer.citations)
    # and the source is named in full once, under the last quote
    assert (
        content.count(f"-# Source: *{doc.title}*, {doc.publisher}, {doc.author}, {doc.date}") == 1
    )


def test_the_headline_answer_is_one_message_with_its_answer_in_the_first_400_characters(
    assistant: Assistant,
) -> None:
    answer = assistant.answer(KASPERSKY)
    [payload] = render_payloads(answer, assistant)
    assert_within_discord_limits(payload)
    content = payload["content"]
    assert len(content) < 2000 and payload["flags"] == 4  # SUPPRESS_EMBEDS: no link previews
    first, *others = answer.citations
    bold = answering_clause(KASPERSKY, first.quote)
    assert bold is not None
    assert content.index(f"**{first.quote[bold[0] : bold[1]]}**") < 400
    unbolded = content.replace("**", "")
    assert first.quote in unbolded  # the first quote whole, before any other
    for citation in others:  # the others, the words around their answers
        assert citation.quote not in unbolded
        parts = shown_spans(KASPERSKY, citation)
        assert unbolded.index(first.quote) < unbolded.index(parts[0].quote)
        assert all(part.quote in unbolded for part in parts)
    # each attribution on one short line
    attributions = [line for line in content.split("\n") if line.startswith("— ")]
    assert len(attributions) == 3 and all(len(a) < 200 for a in attributions)
    # the full form is still there, for `ask --as discord --full`
    full = render_payloads(answer, assistant, full=True)
    assert all(c.quote in "".join(p["content"] for p in full).replace("**", "") for c in others)


def test_the_documents_own_voice_is_not_a_quotation(northwind: Assistant) -> None:
    own = render_payloads(northwind.answer("How long do refunds take?"), northwind)[0]["content"]
    assert "\n— Northwind Logistics Ltd · *Returns policy* · “Returns”, paragraph 1" in own
    founder = render_payloads(northwind.answer("Why are returns free?"), northwind)[0]["content"]
    assert "\n— Jane Okafor · *Returns policy*" in founder
    assert "as quoted" not in own + founder and "narration" not in own + founder


def test_a_table_row_is_shown_as_column_value_pairs(northwind: Assistant) -> None:
    answer = northwind.answer("Which van do drivers get?")
    row = next(c for c in answer.citations if c.quote.startswith("| Drivers"))
    assert row.header is not None and row.header.quote == "| Role | Van | Phone |"
    content = render_payloads(answer, northwind)[0]["content"]
    assert (
        "> **Role:** Drivers\n> **Van:** Ford Transit with a tail lift\n"
        f"> **Phone:** A work phone with the route app (ask @{ZWSP}everyone in IT for one)\n— "
    ) in content
    assert_no_live_mentions(content)
    assert "| Drivers |" not in content


@pytest.mark.parametrize("caveat", [None, UNSURE, "The documents don't mention “Facebook”."])
def test_an_unsure_answer_says_so_before_its_quotes(
    assistant: Assistant, caveat: str | None
) -> None:
    answer = replace(assistant.answer(KASPERSKY), caveat=caveat)
    content = render_payloads(answer, assistant)[0]["content"]
    asked, header, first_quote = content.split("\n\n")[:3]
    expected = SURE_HEADER if caveat is None else f"{caveat} The closest passages:"
    assert asked.startswith("**Asked:**") and header == expected and first_quote.startswith("> ")


def test_a_quoted_list_stays_a_quoted_list(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "expenses.md").write_text(
        "You can claim for the following:\n\n- Train tickets.\n- Hotels up to £120 a night.\n",
        encoding="utf-8",
    )
    rules = Assistant.load(tmp_path, cache_dir=cache_dir)
    content = render_payloads(rules.answer("What can I claim for?"), rules)[0]["content"]
    # Every line block-quoted, the list markers shown as written, no stray backslash.
    assert "> You can claim for the following:\n> \n> \\- Train tickets.\n> \\- Hotels" in content
    assert "> \\\n" not in content


def test_unanswered_question_gets_a_plain_message(assistant: Assistant) -> None:
    payloads = render_payloads(
        assistant.answer("What is the recipe for chocolate cake?"), assistant
    )
    assert len(payloads) == 1
    assert "The documents don't cover this." in payloads[0]["content"]
    assert ">" not in payloads[0]["content"]


def _paragraph_citations(assistant: Assistant) -> list[Citation]:
    """Real, verbatim citations: the bundled article's longer paragraphs."""
    doc = assistant.documents[0]
    citations, offset = [], doc.body_start
    for number, paragraph in enumerate(doc.text[doc.body_start :].split("\n\n"), 1):
        if len(paragraph) > 200:
            citations.append(
                Citation(
                    paragraph,
                    str(doc.path),
                    offset,
                    offset + len(paragraph),
                    doc.source,
                    f"paragraph {number}",
                    None,
                    0.9,
                )
            )
        offset += len(paragraph) + 2
    assert all(doc.text[c.start : c.end] == c.quote for c in citations)
    return citations


def test_long_answer_splits_at_2000_and_2001_between_quotes(assistant: Assistant) -> None:
    citations = _paragraph_citations(assistant)

    def rendered(chosen: tuple[Citation, ...], pad: int) -> list[dict[str, Any]]:
        answer = Answer("Why x" + "x" * pad, True, "", chosen)
        return render_payloads(answer, assistant, full=True)  # every quote whole

    # Quotes that, with a short question, fill one message to between 1,850 and 2,000 characters.
    chosen = next(
        combo
        for combo in itertools.combinations(citations, 3)
        if 1850 <= len(rendered(combo, 0)[0]["content"]) <= 2000 and len(rendered(combo, 0)) == 1
    )
    pad = 2000 - len(rendered(chosen, 0)[0]["content"])
    at_limit, over_limit = rendered(chosen, pad), rendered(chosen, pad + 1)

    assert [len(p["content"]) for p in at_limit] == [2000]
    assert len(over_limit) == 2
    for payload in over_limit:
        assert_within_discord_limits(payload)
    # The split falls between quotes: each quote and its attribution stay in one message.
    for citation in chosen:
        holders = [p["content"] for p in over_limit if citation.quote[:60] in p["content"]]
        assert len(holders) == 1
        body = holders[0].split(citation.quote[:60], 1)[1]
        assert f"{citation.locator}" in body
    assert over_limit[1]["content"].startswith("> ")


def test_a_quote_longer_than_a_message_is_cut_into_block_quotes(assistant: Assistant) -> None:
    citations = _paragraph_citations(assistant)
    doc = assistant.documents[0]
    first, last = citations[0], citations[4]
    long = replace(first, quote=doc.text[first.start : last.end], end=last.end)
    assert len(long.quote) > 2000
    payloads = render_payloads(Answer("Why?", True, "", (long,)), assistant)
    assert len(payloads) >= 2
    for payload in payloads:
        assert_within_discord_limits(payload)
    text = "\n".join(p["content"] for p in payloads)
    # One attribution, after the last piece (with one voice, "narration" would say nothing)
    assert text.count("\n— ") == 1 and "· paragraph 1" in payloads[-1]["content"]
    assert "narration" not in text
    quoted = [line[2:] for line in text.split("\n") if line.startswith("> ")]
    assert " ".join(" ".join(quoted).split()) == " ".join(long.quote.split())


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
