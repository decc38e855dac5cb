"""Follow-up questions read with the question before them; questions that stand alone read alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.conversation import leans_on_previous, read_with_previous
from tests.conftest import ROOT

HANDBOOK = ROOT / "benchmarks" / "own" / "handbook"


@pytest.mark.parametrize(
    "question",
    [
        "what about part-timers?",
        "and in London?",
        "for how long?",
        "who has to agree it?",
        "why them?",
        "how much does that cost?",
        "can I carry any over?",
        "and after that?",
        "is it ok?",
    ],
)
def test_elliptical_questions_lean_on_the_one_before(question: str) -> None:
    assert leans_on_previous(question)


@pytest.mark.parametrize(
    "question",
    [
        "What is the mileage rate?",
        "Can I have a cat?",
        "Can I tell IT my password?",  # IT, the department
        "Is it OK to use my phone in the gym?",  # it: what follows
        "And what is the mileage rate for a car on business in Scotland?",  # names its topic
        "Who is the CEO?",
    ],
)
def test_questions_that_name_their_topic_stand_alone(question: str) -> None:
    assert not leans_on_previous(question)
    assert read_with_previous(question, "How many days of holiday do I get?") is None


@pytest.fixture(scope="module")
def handbook(cache_dir: Path) -> Assistant:
    return Assistant.load(HANDBOOK, cache_dir=cache_dir)


def test_a_follow_up_is_answered_from_the_conversation(handbook: Assistant) -> None:
    first = handbook.answer("What is overtime paid at?")
    assert first.understood_as is None and first.context == "What is overtime paid at?"
    alone = handbook.answer("who has to agree it?")
    follow_up = handbook.answer("who has to agree it?", previous=first.context)
    assert "agreed in advance by your line manager" in follow_up.citations[0].quote
    assert not any("overtime" in c.quote.lower() for c in alone.citations)
    assert follow_up.understood_as == "“What is overtime paid at?” — “who has to agree it?”"
    assert follow_up.text.startswith("Taking this as: “What is overtime paid at?”")
    assert follow_up.context == "who has to agree it? What is overtime paid at?"


def test_a_question_that_stands_alone_ignores_the_conversation(handbook: Assistant) -> None:
    before = handbook.answer("How much notice do I have to give?").context
    answer = handbook.answer("What is the mileage rate?", previous=before)
    assert answer.understood_as is None and "45p per mile" in answer.citations[0].quote
    assert answer == handbook.answer("What is the mileage rate?")


def test_a_follow_up_about_what_the_documents_never_mention_says_so(handbook: Assistant) -> None:
    before = handbook.answer("What is the mileage rate?").context
    answer = handbook.answer("and for a motorbike?", previous=before)
    assert answer.caveat == (
        "I'm not sure the documents answer this: they never use the word “motorbike”."
    )
    known = handbook.answer("and for rail travel?", previous=before)
    assert known.caveat is None and "Rail travel is standard class" in known.citations[0].quote
