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
        ("How many days of leave can I carry over?", "duration"),
        ("What is the notice period?", "duration"),
        ("What is the mileage rate?", "number"),
        ("Which team approves expenses?", "who"),
        ("What is the purpose of the audit?", "why"),
        ("Can I bring my dog to work?", "permission"),
        ("Are visitors allowed after 9pm?", "permission"),
        ("How do I report a lost laptop?", "procedure"),
        ("What should I do if I feel unwell?", "procedure"),
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


def test_the_new_answer_types_have_cues_of_their_own() -> None:
    assert _cue("Carry over up to five days into the next year.", "duration")
    assert not _cue("Up to five laptops may be ordered.", "duration")
    assert _cue("You must not install unapproved software.", "permission")
    assert _cue("Staff may work from home.", "permission")
    assert not _cue("The office opens on 1 May 2026.", "permission")  # the month, not the verb
    assert _cue("Report the loss to the service desk at once.", "procedure")
    assert _cue("Claims are made by completing the expenses form.", "procedure")
    assert _cue("Overtime is agreed by your line manager.", "who")
    assert not _cue("You must not share passwords.", "who")  # no name or role
