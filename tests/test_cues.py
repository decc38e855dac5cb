"""Answer-type cues: which passages can answer "when", "how many" and "why" questions."""

from __future__ import annotations

import pytest

from assistant.cues import ANSWER_TYPES, passage_cues, question_type


def _cue(text: str, kind: str) -> bool:
    return passage_cues(text)[ANSWER_TYPES.index(kind)]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much money did they spend?", "number"),
        ("When did the ban start?", "when"),
        ("Who wrote the letter?", "who"),
        ("Why was the account closed?", "why"),
        ("What does the letter say about censorship?", None),
    ],
)
def test_question_type(question: str, kind: str | None) -> None:
    assert question_type(question) == kind


def test_a_year_is_a_date_but_not_a_quantity() -> None:
    text = "The whole budget for 2018 will be donated."
    assert _cue(text, "when")
    assert not _cue(text, "number")
    assert _cue("We keep logs for 30 days.", "number")
    assert _cue("Fees rise by 5% in 2019.", "number")
    assert _cue("It costs two hundred dollars.", "number")


def test_a_reason_asked_about_is_not_a_reason_given() -> None:
    assert not _cue("We asked about the reasons behind the ban.", "why")
    assert _cue("We keep it for three reasons: safety, law and billing.", "why")
    assert _cue("The reason is that the law requires it.", "why")
    assert _cue("We collect it because you asked us to.", "why")
