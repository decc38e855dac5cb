from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant import Assistant
from assistant.spelling import corrected
from assistant.text import lexical_tokens


def _passages_with(**counts: int) -> Callable[[str], int]:
    """passages_with for documents that use these words in so many passages."""
    known = {lexical_tokens(word)[0]: n for word, n in counts.items()}
    return lambda token: known.get(token, 0)


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("Whose ads did twiter block?", "Whose ads did twitter block?"),
        ("Why was Kaspesrky banned?", "Why was Kaspersky banned?"),  # letters swapped; capital kept
        ("Does it cost anyhting?", "Does it cost anything?"),  # a function word
        ("Who is the caree?", "Who is the carer?"),  # of two neighbours, the more frequent
        # An English word stays, though the documents only have its neighbour ("funded").
        ("When was the lab founded?", "When was the lab founded?"),
        ("Can I kepe it?", "Can I kepe it?"),  # too short to guess
        ("Is Zyxwvut covered?", "Is Zyxwvut covered?"),  # nothing one edit away
    ],
)
def test_a_word_one_keystroke_from_a_document_word_is_read_as_it(typed: str, read_as: str) -> None:
    passages_with = _passages_with(twitter=3, kaspersky=5, career=1, carer=2, funded=1, keep=1)
    assert corrected(typed, passages_with) == read_as


def test_a_typo_gets_the_answer_the_right_spelling_gets(assistant: Assistant) -> None:
    typed = assistant.answer("Whose ads did twiter block?")
    spelled = assistant.answer("Whose ads did Twitter block?")
    assert typed.answered
    assert typed.citations == spelled.citations
    assert typed.question == "Whose ads did twiter block?"  # the user's words, as asked
