"""The compact answer (the first quote whole, the others as the words around their answers) and the
labels of who speaks, from the real model."""

from __future__ import annotations

import json
import re
from pathlib import Path

from assistant import Assistant, Citation
from assistant.answers import (
    COMPACT_CHARS,
    ELLIPSIS,
    Span,
    answering_clause,
    attribution,
    full_text,
    shown_spans,
    voice,
)
from tests.conftest import DATA

KASPERSKY = "Why was Kaspersky banned?"


def _file_text(citation: Citation) -> str:
    with open(citation.path, encoding="utf-8") as f:
        return f.read()


def _assert_shown_parts_are_verbatim(question: str, citation: Citation) -> None:
    text = _file_text(citation)
    spans = shown_spans(question, citation)
    assert spans
    previous_end = citation.start
    for span in spans:
        assert text[span.start : span.end] == span.quote  # verbatim at its own offsets
        assert previous_end <= span.start < span.end <= citation.end  # in order, inside the quote
        previous_end = span.end
        # cut at word boundaries: never inside a word
        assert span.start == citation.start or not text[span.start - 1].isalnum()
        assert span.end == citation.end or not text[span.end].isalnum()


def test_the_headline_answer_shows_the_first_quote_whole_and_the_others_around_their_answers(
    assistant: Assistant,
) -> None:
    answer = assistant.answer(KASPERSKY)
    first, *others = answer.citations
    assert len(others) == 2
    assert first.quote in answer.text.replace("**", "")
    for citation in others:
        _assert_shown_parts_are_verbatim(KASPERSKY, citation)
        spans = shown_spans(KASPERSKY, citation)
        assert sum(len(s.quote) for s in spans) <= COMPACT_CHARS < len(citation.quote)
        # the answering words are among what is shown, in bold
        bold = answering_clause(KASPERSKY, citation.quote)
        assert bold is not None
        clause = citation.quote[bold[0] : bold[1]]
        assert f"**{clause}**" in answer.text
        assert citation.quote not in answer.text.replace("**", "")
    assert answer.text.count(ELLIPSIS) >= 2
    # The second quote: its sentence's opening, then the words that answer, each part verbatim.
    assert (
        "2. “The Russia-based cybersecurity company received intimation … that said that the "
        "company “**operates using a business model that inherently conflicts with acceptable "
        "Twitter Ads business practices.**”…”"
    ) in answer.text
    # Each attribution is one short line, the full source once at the end.
    source = first.source
    assert answer.text.count(source) == 1 and answer.text.endswith(f"Source: {source}")
    assert "   — Eugene Kaspersky, as quoted · paragraph 3 (knowledge/" in answer.text
    assert len(answer.text) < 0.8 * len(full_text(answer))


def test_the_full_text_is_every_quote_whole_with_its_full_source(assistant: Assistant) -> None:
    answer = assistant.answer(KASPERSKY)
    full = full_text(answer)
    for citation in answer.citations:
        assert citation.quote in full.replace("**", "")
        assert f"{citation.source}, {citation.locator} ({citation.path}:" in full
    assert "Source:" not in full
    assert full.startswith("From the documents:\n\n1. “Having been disappointed")


def test_every_shown_part_is_verbatim_over_the_dev_and_held_out_sets(
    assistant: Assistant,
) -> None:
    questions = [
        json.loads(line)["q"]
        for name in ("kaspersky-dev.jsonl", "held-out.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    shortened = 0
    for question in questions:
        for citation in assistant.answer(question).citations:
            _assert_shown_parts_are_verbatim(question, citation)
            shortened += len(citation.quote) > COMPACT_CHARS
    assert shortened >= 10  # the sets do exercise the cutting


def test_a_short_quote_and_a_table_row_are_shown_whole() -> None:
    short = Citation("Refunds take 14 days.", "r.md", 5, 26, "", "paragraph 1", None, 0.9)
    assert shown_spans("How long do refunds take?", short) == (Span(short.quote, 5, 26),)
    cells = " | ".join(f"a cell of words number {n} that goes on" for n in range(8))
    row = f"| {cells} |"
    header = Span("| " + " | ".join(f"Column {n}" for n in range(8)) + " |", 0, 90)
    table = Citation(row, "t.md", 100, 100 + len(row), "", "paragraph 2", None, 0.9, header=header)
    assert len(row) > COMPACT_CHARS
    assert shown_spans("What goes on?", table) == (Span(row, 100, 100 + len(row)),)


def test_a_connective_opens_the_clause_it_introduces() -> None:
    # The bold (and the compact form's cut) used to end on "which": "…official accounts which".
    quote = (
        "Following this, a ban was put on all advertisements made by Kaspersky on their official "
        "accounts which they use to announce new posts on various blogs on cybersecurity "
        "(including Securelist and Kaspersky Daily) and inform users about new cyber threats."
    )
    span = answering_clause("When did Twitter ban Kaspersky?", quote)
    assert span is not None
    assert quote[span[0] : span[1]].endswith("on their official accounts")


def test_the_documents_own_voice_is_not_labelled_a_quotation(northwind: Assistant) -> None:
    # tests/data/northwind/returns.md: `speaker: Northwind Logistics Ltd`, and it quotes its founder
    own = northwind.answer("How long do refunds take?")
    first = own.citations[0]
    assert first.quote.startswith("We refund every return within 14 days")
    assert first.speaker == "Northwind Logistics Ltd" and not first.quoted
    assert "— Northwind Logistics Ltd · “Returns”, paragraph 1 (" in own.text
    assert "as quoted" not in own.text and "as quoted" not in full_text(own)

    quoted = northwind.answer("Why are returns free?")
    founder = next(c for c in quoted.citations if c.quote.startswith("A parcel"))
    assert founder.speaker == "Jane Okafor" and founder.quoted
    assert "— Jane Okafor, as quoted · “Returns”, paragraph 2 (" in quoted.text


def test_narration_is_named_only_beside_another_voice(assistant: Assistant) -> None:
    kaspersky = assistant.answer(KASPERSKY)
    letter, article, _ = kaspersky.citations
    assert letter.quoted and not article.quoted and article.speaker is None
    assert voice(article, kaspersky.citations) == "narration"  # told apart from Kaspersky's
    assert voice(article, (article,)) is None  # alone, it says nothing
    assert attribution(article).startswith("TechGenyz, “Eugene Kaspersky")
    assert attribution(letter).startswith("Eugene Kaspersky, as quoted · TechGenyz")
    unnamed = Citation("“Yes.”", "x.md", 0, 6, "A", "paragraph 1", None, 0.9, quoted=True)
    assert voice(unnamed) == "quoted"


def test_a_one_voice_answer_says_no_narration(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "refunds.md").write_text(
        "Refunds are paid within 14 days of a return. Shipping is free above 50 euros.",
        encoding="utf-8",
    )
    answer = Assistant.load(tmp_path, cache_dir=cache_dir).answer("How are refunds paid?")
    assert answer.answered
    assert "narration" not in answer.text and "narration" not in full_text(answer)
    assert re.search(r"\n   — paragraph 1 \(", answer.text)
