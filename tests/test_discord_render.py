"""Discord's rendering of answers: what each message says, within Discord's limits, with no live
mention and the answering clause early; the real core on the bundled and test documents."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord_bot import render_payloads
from assistant import Answer, Assistant, Citation
from assistant.answers import SURE_HEADER, UNSURE, answering_clause, shown_spans

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
