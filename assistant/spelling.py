"""A question's words that the documents spell one keystroke differently ("recyling",
"anyhting", "twiter"), corrected before the question is ranked: a typo otherwise reads as a word
the documents never use, and an answerable question as one they cannot answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from assistant.embedding import minilm_dir
from assistant.text import STOP_WORDS, stems

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"[A-Za-z]{5,}")  # shorter words have too many neighbours to guess from


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole words of the model's vocabulary: a word found there is spelled as intended, even
    if the documents never use it ("founded" is not a slip for "funded")."""
    lines = (minilm_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if w.isalpha() and w.isascii())


def is_english(word: str) -> bool:
    """A whole word of the model's vocabulary, or an inflection of one: the vocabulary holds
    "timer" but not "timers" (WordPiece splits it), which is no typo."""
    english = english_words()
    if word in english:
        return True
    for ending in ("s", "es", "ed", "d", "ing", "er", "ers"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            if stem in english or (ending in ("ed", "ing", "er", "ers") and stem + "e" in english):
                return True
    return False


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, swap of neighbours, replacement or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in _LETTERS),
        *(a + c + b for a, b in splits for c in _LETTERS),
    }


def corrected(question: str, passages_with: Callable[[str], int]) -> str:
    """`question` with each word that is neither English nor in the documents replaced by the
    most frequent document word (or function word) one edit away, if there is one.
    `passages_with`: how many passages contain a lexical token."""

    def fix(match: re.Match[str]) -> str:
        typed = match.group()
        word = typed.lower()
        if passages_with(stems([word])[0]) or is_english(word):
            return typed
        # A function word wins: it is the likeliest thing to have typed, and it carries no topic.
        candidates = sorted(_one_edit(word))
        best = next((c for c in candidates if c in STOP_WORDS), None)
        if best is None:
            counts = [passages_with(token) for token in stems(candidates)]
            if max(counts) == 0:
                return typed
            best = candidates[counts.index(max(counts))]
        return best.capitalize() if typed[0].isupper() else best

    return _WORD.sub(fix, question)
