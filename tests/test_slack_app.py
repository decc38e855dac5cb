"""The Slack app end to end: signed HTTP requests in, a fake Slack Web API and response_url out."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from adapters.slack_render import escape, render_payloads
from assistant import Answer, Assistant
from tests.doubles import SlowAssistant
from tests.fake_slack import dm, mention
from tests.test_slack_render import assert_within_limits, long_answer, texts

QUESTION = "Why was Kaspersky banned?"
QUIET_SECONDS = 1.5  # how long "no further reply" is watched for
session_loop = pytest.mark.asyncio(loop_scope="session")


class FixedAnswer(SlowAssistant):
    def __init__(self, inner: Assistant, answer: Answer) -> None:
        super().__init__(inner, 0.0)
        self.fixed = answer

    def answer(self, question: str) -> Answer:
        return self.fixed


@session_loop
async def test_slash_command_is_acked_then_answered_through_response_url(
    serve_app, slack, assistant
):
    app = await serve_app(assistant)
    status, latency = await app.command(QUESTION, f"{slack.url}/response/1")
    assert status == 200 and latency < 3.0
    [reply] = await slack.wait_for("response_url")
    assert reply["response_type"] == "in_channel"
    assert "Kaspersky" in texts(reply) and any(b["type"] == "section" for b in reply["blocks"])
    assert slack.posted() == []  # the slash command answers through response_url only


@session_loop
async def test_private_flag_answers_ephemerally(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.command(f"private {QUESTION}", f"{slack.url}/response/1")
    [reply] = await slack.wait_for("response_url")
    assert reply["response_type"] == "ephemeral"
    assert "Question: Why was Kaspersky banned?" in texts(reply)


@session_loop
async def test_mention_is_answered_in_its_thread(serve_app, slack, assistant):
    app = await serve_app(assistant)
    status, _ = await app.event(mention(QUESTION))
    assert status == 200
    [post] = await slack.wait_for("chat.postMessage")
    assert post["channel"] == "C1" and post["thread_ts"] == "1700000000.000200"
    assert "&lt;@UBOT&gt;" not in texts(post)  # the bot's own mention is not part of the question


@session_loop
async def test_dm_is_answered_in_the_dm(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(QUESTION))
    [post] = await slack.wait_for("chat.postMessage")
    assert post["channel"] == "D1" and "thread_ts" not in post
    assert post["blocks"] == render_payloads(assistant.answer(QUESTION), assistant)[0]["blocks"]


@session_loop
async def test_show_full_quotes_answers_the_clicker_in_full(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(QUESTION))
    [post] = await slack.wait_for("chat.postMessage")
    [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
    [button] = actions["elements"]
    assert button["text"]["text"] == "Show full quotes" and button["value"] == QUESTION
    status, latency = await app.click(button["value"], f"{slack.url}/response/1", user="U2")
    assert status == 200 and latency < 3.0
    [full] = await slack.wait_for("response_url")
    # for the clicker alone, under the compact answer (which stays as it was)
    assert full["response_type"] == "ephemeral" and full["replace_original"] is False
    answer = assistant.answer(QUESTION)
    [expected] = render_payloads(answer, assistant, full=True)
    assert full["blocks"] == expected["blocks"]
    shown = "".join(b["text"]["text"] for b in full["blocks"] if b["type"] == "section")
    for citation in answer.citations:  # every quote whole
        assert escape(citation.quote) in shown.replace("*", "").replace("> ", "")
    assert not any(b["type"] == "actions" for b in full["blocks"])


@session_loop
async def test_show_full_quotes_is_acked_within_3_seconds_with_a_slow_core(
    serve_app, slack, assistant
):
    app = await serve_app(SlowAssistant(assistant, delay=4.0))
    question = "<!channel> why & how was Kaspersky banned?"  # comes back as escaped as it went
    status, latency = await app.click(escape(question), f"{slack.url}/response/1")
    assert status == 200 and latency < 3.0
    [full] = await slack.wait_for("response_url")
    assert full["response_type"] == "ephemeral"
    assert "Question: &lt;!channel&gt; why &amp; how was Kaspersky banned?" in texts(full)


@session_loop
async def test_same_event_delivered_three_times_is_answered_once(serve_app, slack, assistant):
    app = await serve_app(assistant)
    for _ in range(3):
        assert (await app.event(dm(QUESTION), event_id="EvSame"))[0] == 200
    await slack.wait_for("chat.postMessage")
    await asyncio.sleep(QUIET_SECONDS)
    assert len(slack.posted()) == 1


@session_loop
async def test_mention_and_message_for_one_post_are_answered_once(serve_app, slack, assistant):
    app = await serve_app(assistant)
    ts = "1700000000.000300"
    await app.event(mention(QUESTION, ts=ts, channel="D1", channel_type="im"), event_id="EvA")
    await app.event(dm(f"<@UBOT> {QUESTION}", ts=ts), event_id="EvB")
    await slack.wait_for("chat.postMessage")
    await asyncio.sleep(QUIET_SECONDS)
    assert len(slack.posted()) == 1


@session_loop
@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B999", "subtype": "bot_message"},
        {"bot_id": "B999"},
        {"bot_profile": {"id": "B999"}},
        {"user": "UBOT", "bot_id": "BBOT"},  # ourselves
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"edited": {"user": "U1", "ts": "1700000001.0"}},
    ],
)
async def test_bot_messages_edits_and_joins_are_ignored(serve_app, slack, assistant, extra):
    app = await serve_app(assistant)
    assert (await app.event(dm(QUESTION, **extra)))[0] == 200
    assert (await app.event(mention(QUESTION, **extra), event_id="Ev2"))[0] == 200
    await asyncio.sleep(QUIET_SECONDS)
    assert slack.posted() == [] and slack.posted("chat.postEphemeral") == []


@session_loop
@pytest.mark.parametrize(
    "how",
    [
        {"secret": "wrong-secret"},
        {"timestamp": str(int(time.time()) - 301)},  # stale, although correctly signed
        {"timestamp": "not-a-number"},
        {"timestamp": ""},
    ],
)
async def test_unsigned_stale_or_malformed_requests_get_401(serve_app, slack, assistant, how):
    app = await serve_app(assistant)
    assert (await app.event(dm(QUESTION), **how))[0] == 401
    assert (await app.command(QUESTION, f"{slack.url}/response/1", **how))[0] == 401
    await asyncio.sleep(0.5)
    assert slack.calls == []


@session_loop
async def test_missing_signature_headers_get_401(serve_app, slack, assistant):
    app = await serve_app(assistant)
    async with app.session.post(
        f"{app.url}/slack/events", data=b'{"type":"event_callback"}'
    ) as resp:
        assert resp.status == 401


@session_loop
async def test_channel_mention_in_a_question_is_posted_defanged(serve_app, slack, assistant):
    app = await serve_app(assistant)
    await app.event(dm(f"<!channel> <!here> <@U0LEADER> <!subteam^S123> @everyone {QUESTION}"))
    [post] = await slack.wait_for("chat.postMessage")
    body = texts(post)
    assert "<!" not in body and "<@" not in body and "@everyone" not in body
    assert "&lt;!channel&gt;" in body and "&lt;@U0LEADER&gt;" in body and "@\u200beveryone" in body


@pytest.fixture(scope="session")
def mischievous(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Assistant:
    """A knowledge folder whose only document pings everyone if posted raw."""
    folder = tmp_path_factory.mktemp("mischief")
    (folder / "office.md").write_text(
        "---\ntitle: Office hours <!here> & rules\nurl: https://example.com/a?b=1&c=<2>|x\n---\n"
        "The office closes at six in the evening on Fridays. <!channel> please remember that "
        "@everyone must badge out before leaving, and <@U0BOSS> approves any late stays.\n",
        encoding="utf-8",
    )
    return Assistant.load(folder, cache_dir=cache_dir)


@session_loop
async def test_mentions_inside_a_document_are_posted_defanged(serve_app, slack, mischievous):
    app = await serve_app(mischievous)
    await app.event(dm("When does the office close on Fridays?"))
    [post] = await slack.wait_for("chat.postMessage")
    body = texts(post)
    assert "closes at six" in body, "the question should be answered from the document"
    assert "<!" not in body and "<@" not in body and "@everyone" not in body
    assert "&lt;!channel&gt;" in body and "&lt;@U0BOSS&gt;" in body and "@\u200beveryone" in body
    assert (
        "<https://example.com/a?b=1&amp;c=%3C2%3E%7Cx|Office hours &lt;!here&gt; &amp; rules>"
        in body
    )


@session_loop
async def test_long_answer_is_posted_in_order_within_limits(serve_app, slack, assistant):
    answer = long_answer(assistant, [2_900, 2_900, 2_900, 2_900, 2_900])
    app = await serve_app(FixedAnswer(assistant, answer))
    await app.event(dm("Tell me everything"))
    expected = render_payloads(answer, assistant)
    posts = await slack.wait_for("chat.postMessage", count=len(expected))
    assert [p["blocks"] for p in posts] == [p["blocks"] for p in expected]
    for post in posts:
        assert_within_limits(post)
