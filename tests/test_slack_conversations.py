"""Slack follow-ups, votes and knowledge sets: the real Bolt app over signed HTTP on loopback, the
fake Web API, the real core and a real recorder on a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.feedback import THANKS
from adapters.slack_feedback import COMMENT_BLOCK, COMMENT_INPUT
from adapters.slack_render import render_payloads
from adapters.state import MemoryState
from assistant.conversation import understood
from assistant.records import Recorder
from tests.fake_slack import FakeSlack, Running, dm, mention
from tests.records_db import Records
from tests.slack_apps import StartApp, app_server
from tests.test_knowledge_sets import HR_QUESTION, IT_QUESTION, two_sets
from tests.test_slack_render import texts

FIRST = "Why did Twitter ban Kaspersky's ads?"
FOLLOW_UP = "when was that?"  # alone, the documents cannot say; after FIRST, they can
WHEN = "towards the end of January 2018"
TAKEN_AS = f"Taking this as: “{FIRST}” — “{FOLLOW_UP}”"
THREAD = "1700000000.000200"
REFUSED = "What is the recipe for chocolate cake?"
session_loop = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def serve_app(slack: FakeSlack) -> AsyncIterator[StartApp]:
    """Starts an app as `serve` runs it, each with state of its own (a new process)."""
    async with app_server(slack) as start:

        async def start_alone(source: Any, **options: Any) -> Running:
            options.setdefault("state", MemoryState())
            return await start(source, **options)

        yield start_alone


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return Records(tmp_path / "records.sqlite3")


def buttons(post: dict[str, Any]) -> dict[str, str]:
    """action_id: value of every button in a post."""
    return {
        e["action_id"]: e["value"]
        for b in post["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


# --- follow-ups -------------------------------------------------------------------------------


@session_loop
async def test_a_mention_in_a_thread_the_bot_answered_in_follows_the_thread(
    serve_app, slack, assistant
):
    app = await serve_app(assistant)
    await app.event(mention(FIRST, ts=THREAD), event_id="Ev1")
    await slack.wait_for("chat.postMessage")
    # In the bot's thread, by anyone: a follow-up of the thread's last question.
    reply = mention(FOLLOW_UP, ts="1700000000.000300", thread_ts=THREAD, user="U2")
    await app.event(reply, event_id="Ev2")
    _, followed = await slack.wait_for("chat.postMessage", count=2)
    # In a thread the bot never answered in: read alone.
    other = mention(FOLLOW_UP, ts="1700000000.000500", thread_ts="1700000000.000400")
    await app.event(other, event_id="Ev3")
    *_, alone = await slack.wait_for("chat.postMessage", count=3)
    assert followed["thread_ts"] == THREAD
    first = assistant.answer(FIRST)
    expected = assistant.answer(FOLLOW_UP, previous=first.context)
    [payload] = render_payloads(expected, assistant, previous=first.context)
    assert followed["blocks"] == payload["blocks"]
    assert TAKEN_AS in texts(followed) and WHEN in texts(followed).replace("*", "")
    assert "Taking this as" not in texts(alone) and "don't cover this" in texts(alone)


@session_loop
async def test_a_dm_follows_the_dm_s_last_question_in_its_threads_too(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(FIRST, ts="1700000000.000100"), event_id="Ev1")
    await slack.wait_for("chat.postMessage")
    await app.event(dm(FOLLOW_UP, ts="1700000000.000200"), event_id="Ev2")
    _, followed = await slack.wait_for("chat.postMessage", count=2)
    # A thread under the first answer has no question yet: it follows the DM's last.
    threaded = dm("and why?", ts="1700000000.000400", thread_ts="1700000000.000300")
    await app.event(threaded, event_id="Ev3")
    *_, in_thread = await slack.wait_for("chat.postMessage", count=3)
    assert "thread_ts" not in followed and in_thread["thread_ts"] == "1700000000.000300"
    assert TAKEN_AS in texts(followed) and WHEN in texts(followed).replace("*", "")
    assert "Taking this as: “when was that? Why did Twitter ban" in texts(in_thread)


@session_loop
async def test_show_full_quotes_of_a_follow_up_answers_it_as_it_was_taken(
    serve_app, slack, assistant
):
    app = await serve_app(assistant)
    await app.event(dm(FIRST, ts="1700000000.000100"), event_id="Ev1")
    await slack.wait_for("chat.postMessage")
    await app.event(dm(FOLLOW_UP, ts="1700000000.000200"), event_id="Ev2")
    _, followed = await slack.wait_for("chat.postMessage", count=2)
    await app.click(buttons(followed)["show_full_quotes"], f"{slack.url}/response/1")
    [full] = await slack.wait_for("response_url")
    previous = assistant.answer(FIRST).context
    [expected] = render_payloads(
        assistant.answer(FOLLOW_UP, previous=previous), assistant, full=True
    )
    assert full["blocks"] == expected["blocks"] and TAKEN_AS in texts(full)


# --- votes ------------------------------------------------------------------------------------


@session_loop
async def test_every_answer_is_recorded_with_votes_under_it(serve_app, slack, assistant, records):
    recorder = records.open()
    app = await serve_app(assistant, recorder=recorder)
    await app.event(dm(FIRST), event_id="Ev1")
    [post] = await slack.wait_for("chat.postMessage")
    await app.command(
        "What is the recipe for chocolate cake?", f"{slack.url}/response/1", user="U2"
    )
    [via_command] = await slack.wait_for("response_url")
    await app.event(dm("hi!", ts="1700000000.000900"), event_id="Ev2")  # nothing to vote on
    _, greeting = await slack.wait_for("chat.postMessage", count=2)
    recorded = records.answers(recorder)
    assert [(r[1], r[3], r[4]) for r in recorded] == [
        ("slack", FIRST, "answered"),
        ("slack", "What is the recipe for chocolate cake?", "refused"),
        ("slack", "hi!", "other"),
    ]
    assert all(r[2] not in (None, "U1", "U2") and len(r[2]) == 64 for r in recorded)  # hashed
    assert buttons(post)["vote_up"] == buttons(post)["vote_down"] == recorded[0][0]
    assert "show_full_quotes" in buttons(post)  # beside the votes, as before
    assert buttons(via_command) == {"vote_up": recorded[1][0], "vote_down": recorded[1][0]}
    assert buttons(greeting) == {}
    recorder.close()


@session_loop
async def test_up_then_down_by_one_user_is_one_down_vote_with_its_comment(
    serve_app, slack, assistant, records
):
    recorder = records.open()
    app = await serve_app(assistant, recorder=recorder)
    await app.event(dm(FIRST), event_id="Ev1")
    [post] = await slack.wait_for("chat.postMessage")
    answer_id = buttons(post)["vote_up"]
    status, latency = await app.click(
        answer_id, f"{slack.url}/response/1", user="U2", action_id="vote_up"
    )
    assert status == 200 and latency < 3.0
    status, latency = await app.click(
        answer_id, f"{slack.url}/response/2", user="U2", action_id="vote_down"
    )
    assert status == 200 and latency < 3.0
    [opened] = await slack.wait_for("views.open")
    assert opened["trigger_id"] == "1.2.3" and opened["view"]["private_metadata"] == answer_id
    status, latency = await app.submit_view(
        opened["view"], {COMMENT_BLOCK: {COMMENT_INPUT: "It does not say when."}}, user="U2"
    )
    assert status == 200 and latency < 3.0
    thanks = await slack.wait_for("response_url", count=2)
    for said in thanks:  # to the clicker alone, the answer left as it was
        assert said["text"] == THANKS and said["response_type"] == "ephemeral"
        assert said["replace_original"] is False
    assert len(slack.posted()) == 1  # nothing posted for everyone
    [(voted_on, person, up, comment)] = records.votes(recorder)
    assert (voted_on, up, comment) == (answer_id, 0, "It does not say when.")
    recorder.close()


@session_loop
async def test_a_vote_after_a_restart_is_recorded(serve_app, slack, assistant, records):
    before = records.open()
    first = await serve_app(assistant, recorder=before)
    await first.event(dm(FIRST), event_id="Ev1")
    [post] = await slack.wait_for("chat.postMessage")
    before.close()
    after = records.open()  # a new process: its own app, memory and recorder, the same database
    restarted = await serve_app(assistant, recorder=after)
    answer_id = buttons(post)["vote_down"]
    status, _ = await restarted.click(answer_id, f"{slack.url}/response/1", action_id="vote_down")
    assert status == 200
    [opened] = await slack.wait_for("views.open")
    await restarted.submit_view(opened["view"], {COMMENT_BLOCK: {COMMENT_INPUT: "outdated"}})
    await slack.wait_for("response_url")
    [(voted_on, _, up, comment)] = records.votes(after)
    assert (voted_on, up, comment) == (answer_id, 0, "outdated")
    after.close()


@session_loop
async def test_with_recording_off_answers_have_no_votes(serve_app, slack, assistant):
    app = await serve_app(assistant, recorder=Recorder.disabled())
    await app.event(dm(FIRST), event_id="Ev1")
    [post] = await slack.wait_for("chat.postMessage")
    assert set(buttons(post)) == {"show_full_quotes"}
    await app.click("0" * 32, f"{slack.url}/response/1", action_id="vote_up")  # an old button
    [said] = await slack.wait_for("response_url")
    assert said["text"].startswith("Votes are not being recorded")


@session_loop
async def test_the_report_groups_a_refused_question_asked_twice_with_its_down_vote(
    serve_app, slack, assistant, records
):
    recorder = records.open()
    app = await serve_app(assistant, recorder=recorder)
    await app.event(dm(REFUSED), event_id="Ev1")
    await app.event(mention(REFUSED, user="U2"), event_id="Ev2")
    refused, _ = await slack.wait_for("chat.postMessage", count=2)
    await app.click(buttons(refused)["vote_down"], f"{slack.url}/response/1", action_id="vote_down")
    [opened] = await slack.wait_for("views.open")
    await app.submit_view(opened["view"], {COMMENT_BLOCK: {COMMENT_INPUT: "nothing on cakes"}})
    await slack.wait_for("response_url")
    report = records.report(recorder, assistant.embedder)
    recorder.close()
    [group] = report.problem_groups
    assert (group.count, group.refused, group.voted_down) == (2, 2, 1)
    assert set(group.examples) == {REFUSED} and group.comments == ("nothing on cakes",)


# --- knowledge sets ---------------------------------------------------------------------------


@session_loop
async def test_each_channel_answers_from_its_set(serve_app, slack, assistant, tmp_path, cache_dir):
    sets = two_sets(tmp_path, assistant, cache_dir, C0HR="hr", C0IT="it")
    app = await serve_app(sets)
    await app.event(mention(HR_QUESTION, channel="C0HR"), event_id="Ev1")
    [from_hr] = await slack.wait_for("chat.postMessage")
    await app.event(mention(HR_QUESTION, channel="C0IT", ts="1.2"), event_id="Ev2")
    _, refused = await slack.wait_for("chat.postMessage", count=2)
    await app.event(dm("Why was Kaspersky banned?"), event_id="Ev3")
    _, _, from_default = await slack.wait_for("chat.postMessage", count=3)
    await app.command(IT_QUESTION, f"{slack.url}/response/1", channel="C0IT")
    [from_it] = await slack.wait_for("response_url")
    assert "Knowledge set: hr" in texts(from_hr) and "25 days" in texts(from_hr)
    assert "Knowledge set: it" in texts(refused) and "don't cover this" in texts(refused)
    assert "Knowledge set: default" in texts(from_default) and "Kaspersky" in texts(from_default)
    assert "Knowledge set: it" in texts(from_it) and "14 characters" in texts(from_it)


# --- rendering --------------------------------------------------------------------------------


def test_a_refused_follow_up_says_how_it_was_taken_once(assistant):
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
    [payload] = render_payloads(answer, assistant, answer_id="0" * 32)
    assert texts(payload).count("Taking this as:") == 1
    [section] = [b for b in payload["blocks"] if b["type"] == "section"]
    assert section["text"]["text"].startswith("The documents don't cover this.")
    assert buttons(payload) == {"vote_up": "0" * 32, "vote_down": "0" * 32}


def test_a_follow_up_s_show_full_value_reads_back_and_an_old_one_still_does():
    from adapters.slack_render import read_show_full_value, show_full_value

    value = show_full_value("when & <why>?", "Why was it <!channel>?")
    assert read_show_full_value(value) == ("when & <why>?", "Why was it <!channel>?")
    assert read_show_full_value("Why &amp; how?") == ("Why & how?", None)  # older buttons
    assert read_show_full_value("<not json") == ("<not json", None)
