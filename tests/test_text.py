"""The lexical tokenizer: what BM25, term coverage and the refusal's word counts are built from."""

from __future__ import annotations

import pytest

from assistant.text import lexical_tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # A pronoun's contraction is function words, not a word of its own ("I'll" is not "ill").
        ("I'll be off sick", ["sick"]),
        (
            "We’ll reply; we'd like to, and I've seen you're ready",
            ["repli", "like", "see", "readi"],
        ),
        ("I'm ill", ["ill"]),
        ("They're here and it's done", ["do"]),  # "done" joins "do"
        # An indefinite pronoun names no topic: "return something" asks about returns.
        ("How long do I have to return something? Can anyone?", ["long", "return"]),
        # Possessives lose their 's; "won't" is "will not", both stop words.
        ("We won't pay Twitter's bill", ["pay", "twitter", "bill"]),
    ],
)
def test_contractions(text: str, tokens: list[str]) -> None:
    assert lexical_tokens(text) == tokens
