"""Answers from the real model: verbatim quotes, honest refusals, no boilerplate, sane shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.answers import (
    MAX_QUESTION_CHARS,
    SURE_HEADER,
    UNSURE,
    answering_clause,
    normalize_question,
    quotes_header,
    unmentioned,
)
from assistant.core import SURE_THRESHOLD, min_confidence_setting
from assistant.errors import ConfigurationError, QuestionError
from assistant.evaluation import read_eval_file
from assistant.question import unknown_words
from assistant.text import words
from tests.conftest import DATA


def _assert_verbatim(answer: Answer) -> None:
    for c in answer.citations:
        with open(c.path, encoding="utf-8") as f:
            assert f.read()[c.start : c.end] == c.quote


def _questions(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


def test_why_was_kaspersky_banned_is_answered_with_cited_quotes(assistant: Assistant) -> None:
    answer = assistant.answer("Why was Kaspersky banned?")
    assert answer.answered and 1 <= len(answer.citations) <= 3
    _assert_verbatim(answer)
    first = answer.citations[0]
    assert first.source.startswith("TechGenyz, “Eugene Kaspersky Writes an Open Letter")
    assert first.locator.startswith("paragraph ")
    assert first.path == "knowledge/kaspersky-twitter-article.md" or first.path.endswith(
        "knowledge/kaspersky-twitter-article.md"
    )
    assert 0 < first.score <= 1
    assert [c.score for c in answer.citations] == sorted(
        (c.score for c in answer.citations), reverse=True
    )
    assert first.quote in answer.text.replace("**", "")
    assert answer.sure and answer.text.startswith(SURE_HEADER)


def test_an_answer_the_assistant_is_unsure_of_says_so(assistant: Assistant) -> None:
    # The article speaks of Twitter's ads but not of who sells them: the closest quotes are shown
    # (confidence 0.61, between the refusal at 0.5 and SURE_THRESHOLD), with a caveat first.
    # It names the question's words the documents never use, often what it asks.
    answer = assistant.answer("Who runs Twitter's ad sales?")
    caveat = "I'm not sure the documents answer this: they never use the words “runs” or “sales”."
    assert answer.answered and not answer.sure and answer.caveat == caveat
    assert answer.citations[0].score < SURE_THRESHOLD
    assert answer.text.startswith(quotes_header(caveat) + "\n\n1. “")
    # "much" asks (how much) rather than names what is missing.
    assert unknown_words(assistant.index, "How much money did Kaspersky spend?") == [
        "money",
        "spend",
    ]
    # Every word known, the caveat is the plain one (confidence 0.53).
    assert assistant.answer("what is securelist").caveat == UNSURE


def test_a_question_naming_what_the_documents_never_mention_is_answered_saying_so(
    cache_dir: Path,
) -> None:
    # The rules limit DVDs but never name a film: answered from the rest of the question, with
    # the name the documents lack (before, the unknown name alone refused it: confidence 0.31).
    library = Assistant.load(DATA / "library", cache_dir=cache_dir)
    answer = library.answer("How many Harry Potter DVDs can I borrow?")
    assert answer.answered and not answer.sure
    assert answer.caveat == "The documents don't mention “Harry Potter”."
    assert "no more than 5 DVDs" in answer.citations[0].quote
    assert answer.text.startswith(quotes_header(answer.caveat) + "\n\n1. “")
    assert not library.answer("What is the capital of France?").answered


def test_an_answer_to_a_question_naming_what_the_documents_never_mention_says_so(
    assistant: Assistant,
) -> None:
    # Confident (0.87) that the article speaks of banning Kaspersky's ads, which it does: of
    # Twitter's ban. Only the caveat tells the asker that Facebook is never mentioned.
    answer = assistant.answer("Did Facebook also ban Kaspersky ads?")
    assert answer.answered and not answer.sure
    assert answer.caveat == "The documents don't mention “Facebook”."


def test_the_caveat_names_what_is_missing_as_the_question_spells_it() -> None:
    question = "Can I claim a Premier Inn in Manchester, or a Hilton?"
    names = ["Premier", "Inn", "Manchester", "Hilton"]
    expected = "The documents don't mention “Premier Inn”, “Manchester” or “Hilton”."
    assert unmentioned(names, question) == expected
    assert (
        unmentioned(["Spain"], "Can I work from Spain?") == "The documents don't mention “Spain”."
    )


def test_every_quote_is_verbatim_over_the_dev_and_held_out_sets(assistant: Assistant) -> None:
    questions = _questions("kaspersky-dev.jsonl") + _questions("held-out.jsonl")
    for question in questions:
        _assert_verbatim(assistant.answer(question))


def test_every_quote_is_verbatim_on_privacy_policies(tmp_path: Path, cache_dir: Path) -> None:
    sets = read_eval_file(DATA / "policyqa-dev-sample.json", None, tmp_path)
    assert len(sets) == 3
    for eval_set in sets:
        policy = Assistant.load(eval_set.knowledge_dir, cache_dir=cache_dir)
        for question in eval_set.questions[::3]:
            _assert_verbatim(policy.answer(question.text))


@pytest.mark.parametrize(
    "question",
    [
        "What is the weather in Moscow?",
        "How do I reset my Slack password?",
        "Write me a poem about cats",
        "What is the capital of France?",
    ],
)
def test_questions_the_documents_do_not_answer_are_refused(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.answer(question)
    assert not answer.answered and answer.citations == ()
    assert "don't cover" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "Where can I place sponsored content?",
        "How do I subscribe to the newsletter?",
        "Is there a holiday discount offer?",
        "How can I showcase my brand?",
    ],
)
def test_site_boilerplate_is_never_quoted(assistant: Assistant, question: str) -> None:
    doc = assistant.documents[0]
    boilerplate_starts = doc.text.index("Sign up for Newsletters")
    for citation in assistant.answer(question).citations:
        assert citation.end <= boilerplate_starts


def test_quotes_are_not_near_duplicates(assistant: Assistant) -> None:
    for question in _questions("kaspersky-dev.jsonl"):
        spans = [(c.start, c.end) for c in assistant.answer(question).citations]
        for i, (a, b) in enumerate(spans):
            for c, d in spans[i + 1 :]:
                assert b <= c or d <= a, f"overlapping quotes for {question!r}"


def test_a_sentence_in_two_copies_of_a_document_is_quoted_once(
    tmp_path: Path, cache_dir: Path
) -> None:
    # A folder often holds a draft and a final copy, or the same policy as .txt and .md.
    policy = (
        "Travel rules\n\n1. Book trains at least 7 days ahead.\n"
        "2. Flights need written approval from a director.\n3. Economy class only.\n"
    )
    (tmp_path / "travel.txt").write_text(policy, encoding="utf-8")
    (tmp_path / "travel.md").write_text(policy, encoding="utf-8")
    copies = Assistant.load(tmp_path, cache_dir=cache_dir)
    answer = copies.answer("Do flights need approval?")
    assert answer.answered
    said = [" ".join(words(c.quote)[-5:]) for c in answer.citations]
    assert len(said) == len(set(said)), said


def test_a_quote_ending_in_a_colon_comes_with_what_it_announces(
    assistant: Assistant, tmp_path: Path, cache_dir: Path
) -> None:
    reasons = assistant.answer("What two reasons did Kaspersky outline for writing to Twitter?")
    first = reasons.citations[0]
    assert first.quote.endswith("to fight what Kaspersky deems as a rude injustice.")
    assert "two reasons for writing an open letter to Twitter:" in first.quote

    (tmp_path / "expenses.md").write_text(
        "Expenses\n\nYou can claim for the following:\n\n- Train tickets in standard class.\n"
        "- Hotels up to £120 a night.\n- Meals up to £25 a day.\n\n"
        "Alcohol is never refunded. Claims must be made within 60 days.\n",
        encoding="utf-8",
    )
    # What follows the colon in another section is not what it announces.
    (tmp_path / "shop.md").write_text(
        "## Returns\n\nTo return an item, post it to the address below:\n\n"
        "## Prices\n\nA replacement card costs five pounds.\n",
        encoding="utf-8",
    )
    rules = Assistant.load(tmp_path, cache_dir=cache_dir)
    returns = rules.answer("How do I return an item?").citations[0]
    assert returns.quote == "To return an item, post it to the address below:"
    claims = rules.answer("What can I claim for?")
    announced = [c.quote for c in claims.citations if c.quote.startswith("You can claim")]
    assert announced == [
        "You can claim for the following:\n\n- Train tickets in standard class.\n"
        "- Hotels up to £120 a night.\n- Meals up to £25 a day."
    ]


def test_letter_quotes_carry_their_speaker(assistant: Assistant) -> None:
    answer = assistant.answer("What does Kaspersky say about fighting injustice?")
    speakers = {c.speaker for c in answer.citations if "injustice – we fight it" in c.quote}
    assert speakers == {"Eugene Kaspersky"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "Please ask"),
        ("   \n\t ", "Please ask"),
        ("\u200b\u200b", "Please ask"),
        ("x" * 100_000, "100,000 characters"),
    ],
)
def test_unusable_questions_get_a_kind_refusal(assistant: Assistant, raw: str, reason: str) -> None:
    answer = assistant.answer(raw)
    assert not answer.answered and reason in answer.text and answer.citations == ()


def test_control_rtl_and_emoji_input_is_answered_normally(assistant: Assistant) -> None:
    assert (
        normalize_question("why\x00 was\x1b Kaspersky\u202e banned?") == "why was Kaspersky banned?"
    )
    for question in (
        "🤔 why was Kaspersky banned? 🚫",
        "لماذا تم حظر كاسبرسكي؟",
        "Why\u200b was Kaspersky banned?",
    ):
        answer = assistant.answer(question)
        _assert_verbatim(answer)
    assert len(normalize_question("a" * MAX_QUESTION_CHARS)) == MAX_QUESTION_CHARS
    with pytest.raises(QuestionError):
        normalize_question("a" * (MAX_QUESTION_CHARS + 1))


def test_highlight_marks_a_clause_without_changing_the_quote() -> None:
    quote = (
        "To act promptly on the matter, Kaspersky sent an official letter to Twitter two months ago "
        "to gain more information regarding the reasons behind the ban, the response to which was "
        "“the copy of the same boilerplate text”, says Kaspersky."
    )
    span = answering_clause("When did Kaspersky send the official letter?", quote)
    assert span is not None
    clause = quote[span[0] : span[1]]
    assert "official letter" in clause and len(clause) < len(quote)
    assert answering_clause("When?", "Too short to highlight.") is None


def test_the_highlight_reads_the_question_as_the_ranking_does(assistant: Assistant) -> None:
    answer = assistant.answer("Why did Twitter ban Kaspersky's ads?")
    quote = next(c.quote for c in answer.citations if "inherently conflicts" in c.quote)
    plain = answering_clause("Why did Twitter ban Kaspersky's ads?", quote)
    framed = answering_clause("Hi! Could you tell me why Twitter banned Kaspersky's ads?", quote)
    assert plain is not None and framed == plain
    assert quote[plain[0] : plain[1]].startswith("operates using a business model")


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        (
            "When do I need a doctor's note?",
            "If you are ill, tell your manager before 10:00 on the first day of absence. "
            "A doctor's note is required for absences longer than 7 consecutive days.",
        ),
        (
            "How much is the relocation allowance?",
            "New staff who move for the job, whatever their grade, receive a relocation allowance "
            "of $1,500 paid with their first salary, and a further 2.5 days of paid leave.",
        ),
    ],
)
def test_highlight_never_cuts_a_number(question: str, quote: str) -> None:
    span = answering_clause(question, quote)
    assert span is not None
    for edge in span:  # "10:|00", "$1|,500" and "$1,|500" would cut a number
        assert not (re.search(r"\d[,:.]?$", quote[:edge]) and re.match(r"[,:.]?\d", quote[edge:]))


def test_a_folder_of_one_sentence_still_answers_and_refuses(
    tmp_path: Path, cache_dir: Path
) -> None:
    (tmp_path / "refunds.md").write_text(
        "Refunds are paid within 14 days of a return.", encoding="utf-8"
    )
    tiny = Assistant.load(tmp_path, cache_dir=cache_dir)
    answered = tiny.answer("How are refunds paid?")
    assert answered.answered and answered.citations[0].quote.startswith("Refunds are paid")
    assert not tiny.answer("What is the weather in Moscow?").answered


def test_a_lower_min_confidence_answers_what_the_default_refuses(assistant: Assistant) -> None:
    offtopic = "What is the capital of France?"
    assert not assistant.answer(offtopic).answered
    eager = Assistant(assistant.index, assistant.embedder, assistant.knowledge_dir, None, 0.0)
    assert eager.answer(offtopic).answered


@pytest.mark.parametrize(("setting", "expected"), [("", 0.5), (" 0.3 ", 0.3), ("1", 1.0)])
def test_min_confidence_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, setting: str, expected: float
) -> None:
    monkeypatch.setenv("POLICY_QA_MIN_CONFIDENCE", setting)
    assert min_confidence_setting() == expected
    assert min_confidence_setting(0.2) == 0.2  # an explicit value wins


@pytest.mark.parametrize("setting", ["high", "-0.1", "1.5", "nan"])
def test_a_bad_min_confidence_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv("POLICY_QA_MIN_CONFIDENCE", setting)
    with pytest.raises(ConfigurationError, match="from 0 to 1"):
        min_confidence_setting()


def test_a_row_with_an_empty_edge_cell_still_pairs_with_its_header() -> None:
    from assistant.answers import Citation, Span

    def row(quote: str, header: str) -> Citation:
        return Citation(quote, "p.docx", 10, 20, "s", "l", None, 1.0, header=Span(header, 0, 5))

    extracted = row(" | Two 27-inch monitors", "Laptop | Monitors")
    assert extracted.header_pairs() == [("Laptop", ""), ("Monitors", "Two 27-inch monitors")]
    markdown = row("| Sales | MacBook Air |", "| Role | Laptop |")
    assert markdown.header_pairs() == [("Role", "Sales"), ("Laptop", "MacBook Air")]


def test_a_locator_counts_paragraphs_from_the_start_of_the_section(
    tmp_path: Path, cache_dir: Path
) -> None:
    (tmp_path / "handbook.md").write_text(
        "# Handbook\n\nWelcome to the company.\n\nRead this first.\n\n## Sick leave\n\n"
        "Call your manager before ten.\n\nAfter seven days you need a fit note from a doctor.\n",
        encoding="utf-8",
    )
    answer = Assistant.load(tmp_path, cache_dir=cache_dir).answer(
        "When do I need a fit note from a doctor?"
    )
    assert answer.citations[0].locator == "“Sick leave”, paragraph 2"
