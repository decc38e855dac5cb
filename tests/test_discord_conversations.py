"""Discord follow-ups, votes and knowledge sets: the real bot, core and recorder; simcord's Discord."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters import discord_bot
from adapters.discord_bot import UNREADABLE, create_bot, render_payloads
from adapters.feedback import NOT_RECORDING, THANKS
from assistant import Assistant
from assistant.conversation import understood
from assistant.records import Recorder
from tests.fake_discord import World, discord_world
from tests.records_db import Records
from tests.test_knowledge_sets import HR_QUESTION, IT_QUESTION, two_sets

FIRST = "Why did Twitter ban Kaspersky's ads?"
FOLLOW_UP = "when was that?"  # alone, the documents cannot say; after FIRST, they can
WHEN = "towards the end of January 2018"
REFUSED = "What is the recipe for chocolate cake?"
TAKEN_AS = f"-# Taking this as: “{FIRST}” — “{FOLLOW_UP}”"


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return Records(tmp_path / "records.sqlite3")


def mention(world: World, text: str) -> str:
    assert world.bot.user is not None
    return f"<@{world.bot.user.id}> {text}"


def vote_ids(message: discord.Message) -> list[str]:
    rows: list[Any] = message.components
    return [str(child.custom_id) for row in rows for child in row.children]


def test_the_follow_up_fixture_needs_the_conversation(assistant: Assistant) -> None:
    assert not assistant.answer(FOLLOW_UP).answered
    follow_up = assistant.answer(FOLLOW_UP, previous=assistant.answer(FIRST).context)
    assert follow_up.answered and WHEN in follow_up.citations[0].quote


async def test_a_reply_to_an_answer_follows_its_question(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        await world.alice.send(world.channel, mention(world, FIRST))
        answer = world.bot_messages()[-1]
        # Another question in between, in the same channel: the reply still follows its own.
        await world.bob.send(world.channel, mention(world, "Who is Jack Dorsey?"))
        asked = await world.alice.send(world.channel, FOLLOW_UP, reply_to=answer)
        reply = world.bot_messages()[-1]
        # A mention in the channel itself is a new conversation: read alone.
        await world.alice.send(world.channel, mention(world, FOLLOW_UP))
        alone = world.bot_messages()[-1]
    assert reply.reference is not None and reply.reference.message_id == asked.id
    expected = assistant.answer(FOLLOW_UP, previous=assistant.answer(FIRST).context)
    assert reply.content == render_payloads(expected, assistant)[0]["content"]
    assert TAKEN_AS in reply.content and WHEN in reply.content.replace("**", "")
    assert "Taking this as" not in alone.content and "don't cover this" in alone.content


async def test_a_mention_in_a_thread_the_bot_answered_in_follows_the_thread(
    assistant: Assistant,
) -> None:
    async with discord_world(create_bot(assistant)) as world:
        thread, other = world.thread("kaspersky"), world.thread("other")
        await world.alice.send(thread, mention(world, FIRST))
        await world.bob.send(thread, mention(world, FOLLOW_UP))  # anyone in the thread
        followed = world.bot_messages(thread)[-1]
        await world.alice.send(other, mention(world, FOLLOW_UP))  # a thread it never answered in
        alone = world.bot_messages(other)[-1]
    assert TAKEN_AS in followed.content and WHEN in followed.content.replace("**", "")
    assert "Taking this as" not in alone.content and "don't cover this" in alone.content


async def test_a_dm_follows_the_dm_s_last_question(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant)) as world:
        await world.alice.send_dm(FIRST)
        await world.alice.send_dm(FOLLOW_UP)
        dm = world.alice.user.dm_channel
        last = [m for m in dm.history() if m.author.bot][-1]
    assert TAKEN_AS in last.content and WHEN in last.content.replace("**", "")


async def test_a_reply_whose_text_discord_withholds_gets_told_how_to_ask(
    assistant: Assistant, records: Records
) -> None:
    recorder = records.open()
    async with discord_world(create_bot(assistant, recorder=recorder)) as world:
        result = await world.alice.slash(world.channel, "ask", question=FIRST)
        assert result.response is not None
        # A reply to a command's answer reaches a bot without its text.
        await world.alice.send(world.channel, FOLLOW_UP, reply_to=result.response.message)
        told = world.bot_messages()[-1]
    recorder.close()
    assert told.content == UNREADABLE


async def test_every_answer_is_recorded_with_votes_under_it(
    assistant: Assistant, records: Records
) -> None:
    recorder = records.open()
    async with discord_world(create_bot(assistant, recorder=recorder)) as world:
        await world.alice.slash(world.channel, "ask", question=FIRST)
        await world.alice.send(world.channel, mention(world, "Why was Kaspersky banned?"))
        await world.alice.send_dm("hi!")  # a greeting: recorded, nothing to vote on
        channel_answers = world.bot_messages()
        dm = [m for m in world.alice.user.dm_channel.history() if m.author.bot]
    [(first_id, platform, person, question, _), second, greeting] = records.answers(recorder)
    assert (platform, question) == ("discord", FIRST)
    assert person != str(world.alice.id) and len(person) == 64  # a salted hash, never the id
    assert greeting[3:] == ("hi!", "other") and vote_ids(dm[-1]) == []
    assert vote_ids(channel_answers[0]) == [
        f"policy-qa:vote:up:{first_id}",
        f"policy-qa:vote:down:{first_id}",
    ]
    assert vote_ids(channel_answers[-1])[0] == f"policy-qa:vote:up:{second[0]}"
    recorder.close()


async def test_up_then_down_by_one_person_is_one_down_vote_with_its_comment(
    assistant: Assistant, records: Records
) -> None:
    recorder = records.open()
    async with discord_world(create_bot(assistant, recorder=recorder)) as world:
        await world.alice.send(world.channel, mention(world, FIRST))
        answer = world.bot_messages()[-1]
        up_id, down_id = vote_ids(answer)
        up = await world.alice.click(answer, custom_id=up_id)
        down = await world.alice.click(answer, custom_id=down_id)
        assert down.modal is not None and down.modal["title"] == "What was wrong?"
        sent = await world.alice.submit_modal(down, {"comment": "It does not say when."})
        other = await world.bob.click(answer, custom_id=up_id)
        public = world.bot_messages()
    for result in (up, sent, other):  # each said to its clicker alone
        assert result.ephemeral and result.response is not None
        assert result.response.content == THANKS
    assert public == [answer]  # nothing posted for everyone
    [(answer_id, *_)] = records.answers(recorder)
    votes = sorted(records.votes(recorder), key=lambda vote: vote[2])
    assert [(v[0], v[2], v[3]) for v in votes] == [
        (answer_id, 0, "It does not say when."),
        (answer_id, 1, None),
    ]
    recorder.close()


async def test_the_buttons_still_work_after_the_bot_is_restarted(
    assistant: Assistant, records: Records
) -> None:
    before = records.open()
    async with discord_world(create_bot(assistant, recorder=before)) as world:
        await world.alice.send(world.channel, mention(world, FIRST))
        answer = world.bot_messages()[-1]
        before.close()
        after = records.open()  # the new process: its own recorder, the same database
        await world.restart(create_bot(assistant, recorder=after))
        down = await world.alice.click(answer, custom_id=vote_ids(answer)[1])
        assert down.modal is not None
        sent = await world.alice.submit_modal(down, {"comment": "outdated"})
    assert sent.response is not None and sent.response.content == THANKS
    [(answer_id, *_)] = records.answers(after)
    [(voted_on, _, up, comment)] = records.votes(after)
    assert (voted_on, up, comment) == (answer_id, 0, "outdated")
    after.close()


async def test_with_recording_off_there_are_no_buttons(assistant: Assistant) -> None:
    async with discord_world(create_bot(assistant, recorder=Recorder.disabled())) as world:
        await world.alice.send(world.channel, mention(world, FIRST))
        answer = world.bot_messages()[-1]
    assert "From the documents:" in answer.content and vote_ids(answer) == []


async def test_with_recording_off_an_older_answer_s_button_says_votes_are_not_kept(
    assistant: Assistant, records: Records
) -> None:
    recorder = records.open()
    async with discord_world(create_bot(assistant, recorder=recorder)) as world:
        await world.alice.send(world.channel, mention(world, FIRST))
        answer = world.bot_messages()[-1]
        recorder.close()
        await world.restart(create_bot(assistant, recorder=Recorder.disabled()))
        down = await world.alice.click(answer, custom_id=vote_ids(answer)[1])
    assert down.modal is None and down.ephemeral and down.response is not None
    assert down.response.content == NOT_RECORDING
    reader = records.open()
    assert records.votes(reader) == []  # nothing was kept
    reader.close()


async def test_the_report_groups_a_refused_question_asked_twice(
    assistant: Assistant, records: Records
) -> None:
    recorder = records.open()
    async with discord_world(create_bot(assistant, recorder=recorder)) as world:
        await world.alice.slash(world.channel, "ask", question=REFUSED)
        await world.bob.send(world.channel, mention(world, REFUSED))
        answers = world.bot_messages()
    report = records.report(recorder, assistant.embedder)
    recorder.close()
    assert "don't cover this" in answers[-1].content  # the mention's answer
    [group] = report.problem_groups
    assert (group.count, group.refused) == (2, 2) and set(group.examples) == {REFUSED}


async def test_each_channel_answers_from_its_set(
    assistant: Assistant, tmp_path: Path, cache_dir: Path
) -> None:
    sets = two_sets(tmp_path, assistant, cache_dir)
    async with discord_world(create_bot(sets)) as world:
        hr, it = world.channel_named("hr"), world.channel_named("it")
        sets.channels.update({str(hr.id): "hr", str(it.id): "it"})  # ids exist only now
        await world.alice.send(hr, mention(world, HR_QUESTION))
        await world.alice.send(it, mention(world, HR_QUESTION))
        await world.alice.send(it, mention(world, IT_QUESTION))
        thread = world.thread()  # in the unmapped channel: the default, the article
        await world.alice.send(thread, mention(world, "Why was Kaspersky banned?"))
        result = await world.alice.slash(it, "ask", question=IT_QUESTION)
        [from_hr], [refused, from_it, _] = world.bot_messages(hr), world.bot_messages(it)
        from_default = world.bot_messages(thread)[-1]
    assert "-# Knowledge set: hr" in from_hr.content and "25 days" in from_hr.content
    assert "-# Knowledge set: it" in refused.content and "don't cover this" in refused.content
    assert "14 characters" in from_it.content
    assert "-# Knowledge set: default" in from_default.content
    assert result.response is not None and "-# Knowledge set: it" in result.response.content


def test_serve_with_a_bad_sets_file_exits_4_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "SENTINEL-TOKEN")
    monkeypatch.delenv("DISCORD_GUILD_ID", raising=False)
    (tmp_path / "policy-qa.toml").write_text("[sets.hr]\nfolder = 'nowhere'\n")
    config = tmp_path / "policy-qa.toml"
    assert discord_bot.serve(lambda: pytest.fail("loaded"), config=config) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set 'hr': the folder" in err


def test_a_refused_follow_up_says_how_it_was_taken_once(assistant: Assistant) -> None:
    # (the core seldom refuses a follow-up outright: it answers with a caveat; a refusal has the
    # same shape as any other, the "Taking this as" paragraph first)
    refused = assistant.answer("What is the recipe for chocolate cake?")
    taken_as = understood(FIRST, "and the cake?")
    answer = replace(
        refused,
        question="and the cake?",
        text=f"Taking this as: {taken_as}\n\n{refused.text}",
        understood_as=taken_as,
    )
    assert not answer.answered
    [payload] = render_payloads(answer, assistant, knowledge_set="hr")
    content = payload["content"]
    assert content.count("Taking this as:") == 1 and "-# Knowledge set: hr" in content
    assert content.split("\n\n")[1].startswith("The documents don't cover this.")
