"""Slack rendering: Block Kit payloads within Slack's limits, split only between quotes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.slack_render import (
    MAX_BLOCKS,
    NOT_COVERED,
    SECTION_LIMIT,
    ZWSP,
    _mark,
    escape,
    quote_sections,
    render_payloads,
)
from assistant import Answer, Assistant, Citation
from assistant.answers import UNSURE, answering_clause, shown_spans

# Slack refused messages near 13k characters (msg_blocks_too_long): the margin we promise.
MESSAGE_CEILING = 12_000


def texts(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def assert_within_limits(payload: dict[str, Any]) -> None:
    assert len(payload["blocks"]) <= MAX_BLOCKS
    assert len(json.dumps(payload, ensure_ascii=False)) <= MESSAGE_CEILING
    assert len(payload["text"]) <= 4_000  # Slack truncates at 40,000; ours stays far under
    for block in payload["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT


def long_answer(assistant: Assistant, sizes: list[int]) -> Answer:
    path = str(assistant.documents[0].path)
    quotes = [
        " ".join(f"lorem{i}x{n}" for n in range(size // 10))[:size] for i, size in enumerate(sizes)
    ]
    citations = tuple(
        Citation(q, path, 0, len(q), assistant.documents[0].source, f"paragraph {i}", None, 0.9)
        for i, q in enumerate(quotes, 1)
    )
    return Answer("Tell me everything", True, "…", citations)


def sections_of(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


@pytest.mark.parametrize(("quote_chars", "sections"), [(2_998, 1), (2_999, 2)])
def test_section_boundary_3000_and_3001(quote_chars: int, sections: int) -> None:
    rendered = quote_sections("y" * quote_chars)  # "> " + quote: 3,000 and 3,001 characters
    assert len(rendered) == sections and all(len(s) <= SECTION_LIMIT for s in rendered)
    assert "".join(line[2:] for s in rendered for line in s.split("\n")) == "y" * quote_chars


def test_long_answer_is_split_at_quote_boundaries_within_limits(assistant: Assistant) -> None:
    answer = long_answer(assistant, [2_500, 2_990, 2_995, 6_000])
    payloads = render_payloads(answer, assistant, full=True)  # what "Show full quotes" posts
    assert len(payloads) > 1
    for payload in payloads:
        assert_within_limits(payload)
    for citation in answer.citations:
        holders = [p for p in payloads if f"lorem{answer.citations.index(citation)}x1 " in texts(p)]
        [holder] = holders  # one quote, one message: never split across messages
        pieces = [line[2:] for s in sections_of(holder) for line in s.split("\n")]
        assert escape(citation.quote) in "".join(pieces)


def test_the_headline_answer_is_one_section_per_quote_the_first_whole_and_bold(
    assistant: Assistant,
) -> None:
    answer = assistant.answer("Why was Kaspersky banned?")
    [payload] = render_payloads(answer, assistant)
    assert_within_limits(payload)
    first, *others = answer.citations
    sections = sections_of(payload)
    assert len(sections) == len(answer.citations) == 3  # one section per quote
    bold = answering_clause(answer.question, first.quote)
    assert bold is not None
    assert sections[0] == f"> {_mark(first.quote, 0, len(first.quote), bold)}"
    assert f"*{escape(first.quote[bold[0] : bold[1]])}*" in sections[0]
    for section, citation in zip(sections[1:], others, strict=True):
        parts = shown_spans(answer.question, citation)
        assert all(escape(p.quote) in section.replace("*", "") for p in parts)
        assert escape(citation.quote) not in section.replace("*", "")
    contexts = [b["elements"][0]["text"] for b in payload["blocks"] if b["type"] == "context"]
    assert contexts[-1].startswith("Source: “Eugene Kaspersky Writes an Open Letter")
    assert contexts[1].startswith("Eugene Kaspersky · <https://") and contexts[1].endswith(
        "· paragraph 3"
    )
    actions = payload["blocks"][-1]
    assert actions["type"] == "actions"
    assert actions["elements"][0]["action_id"] == "show_full_quotes"
    assert actions["elements"][0]["value"] == answer.question

    [full] = render_payloads(answer, assistant, full=True)  # what the button posts
    assert_within_limits(full)
    assert [s.replace("*", "") for s in sections_of(full)] == [
        f"> {escape(c.quote)}" for c in answer.citations
    ]
    assert not any(b["type"] == "actions" for b in full["blocks"])


def test_an_answer_shown_whole_has_no_button(northwind: Assistant) -> None:
    [payload] = render_payloads(northwind.answer("How long do refunds take?"), northwind)
    assert not any(b["type"] == "actions" for b in payload["blocks"])


def test_labels_name_the_documents_own_voice_and_leave_out_lone_narration(
    northwind: Assistant, tmp_path: Path, cache_dir: Path
) -> None:
    [own] = render_payloads(northwind.answer("How long do refunds take?"), northwind)
    assert (
        texts(own).count("Northwind Logistics Ltd · “Returns policy” · “Returns”, paragraph") == 1
    )
    (tmp_path / "refunds.md").write_text("Refunds are paid within 14 days of a return.")
    tiny = Assistant.load(tmp_path, cache_dir=cache_dir)
    [alone] = render_payloads(tiny.answer("How are refunds paid?"), tiny)
    assert "narration" not in texts(alone) and "“Refunds” · paragraph 1" in texts(alone)


def test_a_table_row_is_shown_as_column_value_pairs(northwind: Assistant) -> None:
    answer = northwind.answer("Which van do drivers get?")
    assert any(c.quote.startswith("| Drivers") and c.header for c in answer.citations)
    [payload] = render_payloads(answer, northwind)
    assert_within_limits(payload)
    assert (
        "> *Role:* Drivers\n> *Van:* Ford Transit with a tail lift\n"
        f"> *Phone:* A work phone with the route app (ask @{ZWSP}everyone in IT for one)"
    ) in sections_of(payload)
    assert "| Drivers |" not in texts(payload)


@pytest.mark.parametrize("caveat", [None, UNSURE, "The documents don't mention “Facebook”."])
def test_an_unsure_answer_says_so_before_its_quotes(
    assistant: Assistant, caveat: str | None
) -> None:
    answer = replace(assistant.answer("Why was Kaspersky banned?"), caveat=caveat)
    [payload] = render_payloads(answer, assistant)
    first = sections_of(payload)[0]
    if caveat is None:
        assert first.startswith("> ")
    else:
        header = f"{caveat} The closest passages:"
        assert first == header and header in payload["text"]  # the notification carries it too


def test_unanswered_question_says_the_documents_do_not_cover_it(assistant: Assistant) -> None:
    [payload] = render_payloads(
        assistant.answer("What is the boiling point of mercury on Mars?"), assistant
    )
    assert sections_of(payload)[0].startswith(NOT_COVERED)
