"""What a question asks, before any passage is scored: its focused form, the names in it that the
documents never mention, and the adapter that moves its vector towards answers.

all-MiniLM-L6-v2 matches topics: a question and a sentence that mentions its words look alike
whether or not the sentence answers. The adapter, q + A q with a 384 x 384 matrix A fitted on the
dev questions (question_adapter.npz), moves a question towards the sentences that answered
questions like it. It learned from privacy-policy questions; how much a question resembles those
(its familiarity) tells the ranker how far to trust it. The answers to those questions are kept
too: a new question is also compared with the answers its nearest fitted questions had.

The model also weighs names heavily: in a letter about one company, every sentence naming it
looks like every question naming it. So passages are compared, too, with the question *focused*:
its words that occur in most passages of this corpus dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from assistant.conversation import topic_words
from assistant.embedding import Embedder, Vectors
from assistant.index import Index
from assistant.text import lexical_tokens, words

ADAPTER_FILE = Path(__file__).parent / "question_adapter.npz"

# A question word found in more than this share of the passages (and in at least FOCUS_MIN_PASSAGES
# of them, so a tiny folder keeps its words) tells them apart too little to steer the focused
# question (share chosen on the dev sets from 0.15, 0.2, 0.3, 0.4; 0.2 and 0.3 were within one
# question of each other).
FOCUS_SHARE = 0.3
FOCUS_MIN_PASSAGES = 3
_QUESTION_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def focused(index: Index, question: str) -> str:
    """The question without the words that occur in most passages (the corpus's own subject),
    or the question unchanged when that would drop nothing, or everything it asks about."""
    share = FOCUS_SHARE * len(index)

    def common(word: re.Match[str]) -> bool:
        tokens = lexical_tokens(word.group())
        counts = [index.passages_with(t) for t in tokens]
        return bool(counts) and all(c > share and c >= FOCUS_MIN_PASSAGES for c in counts)

    kept = _QUESTION_WORD.sub(lambda w: "" if common(w) else w.group(), question)
    kept = " ".join(kept.split())
    return kept if lexical_tokens(kept) else question


def question_vectors(index: Index, embedder: Embedder, question: str) -> Vectors:
    """Two rows: the question's vector and its focused version's (one model call)."""
    narrow = focused(index, question)
    vectors = embedder.embed([question] if narrow == question else [question, narrow])
    return vectors[[0, -1]]


# The exemplar answer of a question: its EXEMPLARS nearest fitted questions' answers, weighted by
# a softmax of their cosine to it times EXEMPLAR_SHARPNESS (PolicyQA cross-validation: 3, 8, 20
# and 50 questions, sharpness 10 to 50, all within 0.005 hit@1 of each other).
EXEMPLARS = 10
EXEMPLAR_SHARPNESS = 20.0
# Words kept per fitted question's answers, and per blend of them (PolicyQA cross-validation of the
# similarities alone: 10, 20 and 40 words within 0.004 hit@1 of each other, 20 best).
EXEMPLAR_TERMS = 20


@dataclass(frozen=True)
class Adapter:
    """The matrix A of q + A q, the vectors of the questions it was fitted on, and of their
    answers (each the unit mean of the sentences that answered that question), with the words
    those answers used most and the share of the answers that used each."""

    matrix: Vectors
    questions: Vectors
    answers: Vectors
    answer_terms: npt.NDArray[np.str_]  # one row per question, EXEMPLAR_TERMS words ("" pads)
    term_shares: Vectors  # likewise

    def move(self, question_vector: Vectors) -> Vectors:
        """The question moved by the adapter, unit length."""
        moved: Vectors = question_vector + self.matrix @ question_vector
        return moved / max(float(np.linalg.norm(moved)), 1e-12)

    def exemplar(self, question_vector: Vectors) -> Exemplar:
        """What answers to questions like this one looked like: a policy that says "we do not
        knowingly collect data from children" says it much as other policies do, in words the
        question ("Does the site collect children's data?") does not share. The vector is the
        question itself, and the words none, when no fitted neighbour had an answer. Its
        familiarity comes from the same similarities, so a question needs one pass, not two."""
        similar = self.questions @ question_vector
        familiarity = _familiarity(similar)
        nearest = np.argsort(-similar)[:EXEMPLARS]
        if not len(nearest):
            return Exemplar(question_vector, {}, familiarity)
        weights = np.exp(EXEMPLAR_SHARPNESS * (similar[nearest] - similar[nearest].max()))
        weights /= weights.sum()
        blended = weights @ self.answers[nearest]
        norm = float(np.linalg.norm(blended))
        vector = (blended / norm).astype(np.float32) if norm > 1e-6 else question_vector
        terms: dict[str, float] = {}
        for weight, answer_terms, shares in zip(
            weights, self.answer_terms[nearest], self.term_shares[nearest], strict=True
        ):
            for word, share in zip(answer_terms, shares, strict=True):
                if word:
                    terms[word] = terms.get(word, 0.0) + float(weight * share)
        top = dict(sorted(terms.items(), key=lambda t: -t[1])[:EXEMPLAR_TERMS])
        return Exemplar(vector, top, familiarity)

    def arrays(self, suffix: str = "", dtype: type = np.float32) -> dict[str, Any]:
        """What load_adapter reads back; `suffix` tells several adapters in one file apart."""
        return {
            f"matrix{suffix}": self.matrix.astype(dtype),
            f"questions{suffix}": self.questions.astype(dtype),
            f"answers{suffix}": self.answers.astype(dtype),
            f"terms{suffix}": self.answer_terms,
            f"shares{suffix}": self.term_shares.astype(dtype),
        }


class Exemplar(NamedTuple):
    """The blended answers of a question's nearest fitted questions: their unit vector, and the
    words they used most (lexical tokens) with their blended shares, and the question's
    familiarity: the mean cosine of the three fitted questions most like it."""

    vector: Vectors
    terms: dict[str, float]
    familiarity: float


def _familiarity(similar: Vectors) -> float:
    """Mean of the three largest similarities to the fitted questions (0 with none fitted)."""
    return float(np.sort(similar)[-3:].mean()) if len(similar) else 0.0


def load_adapter(path: Path, suffix: str = "") -> Adapter:
    with np.load(path) as saved:
        return Adapter(
            saved[f"matrix{suffix}"].astype(np.float32),
            saved[f"questions{suffix}"].astype(np.float32),
            saved[f"answers{suffix}"].astype(np.float32),
            saved[f"terms{suffix}"],
            saved[f"shares{suffix}"].astype(np.float32),
        )


_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")
_NOT_NAMES = frozenset({"ok", "okay"})  # written in capitals, but words, not names
_SENTENCE_END = re.compile(r"[.!?]+\s+")


def unknown_names(index: Index, question: str) -> list[str]:
    """The capitalised words, other than a sentence's first, that no passage contains, in the
    order asked: a question about someone or something the documents never name is rarely
    answered there."""
    names: list[str] = []
    for sentence in _SENTENCE_END.split(question):
        first_word = _QUESTION_WORD.search(sentence)
        if first_word:
            names += _CAPITALISED.findall(sentence[first_word.end() :])
    return list(
        dict.fromkeys(n for n in names if n.casefold() not in _NOT_NAMES and _unused(index, n))
    )


def unknown_words(index: Index, question: str) -> list[str]:
    """The question's content words, folded, that no passage uses in any form, in the order
    asked; not the word after "how", which asks rather than names ("how much", "how many")."""
    asked = words(question)
    return list(
        dict.fromkeys(
            word
            for before, word in zip(["", *asked], asked, strict=False)
            if before != "how" and _unused(index, word)
        )
    )


def _unused(index: Index, word: str) -> bool:
    """Is `word` a content word that no passage contains in any form?"""
    tokens = lexical_tokens(word)
    return bool(tokens) and all(index.passages_with(t) == 0 for t in tokens)


def new_topic_unknown(index: Index, follow_up: str) -> list[str]:
    """A follow-up's topic words when the documents use none of them ("and for a motorbike?"),
    else nothing: one known word ("and garden waste?") may be what it asks about."""
    named = [w for w in topic_words(follow_up) if lexical_tokens(w)]
    return named if named and all(_unused(index, w) for w in named) else []
