"""Hybrid ranking of passages for a question, and the decision whether the documents answer it.

Each passage gets a row of features (dense and lexical similarity of itself, its paragraph and
its neighbours, question-term coverage, answer-type cues); a linear model fitted on the dev sets
(benchmarks/fit_ranker.py) weighs them into one score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.cues import ANSWER_TYPES, asks_for_words, question_type
from assistant.embedding import Vectors
from assistant.index import Index
from assistant.text import lexical_tokens

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]


@dataclass(frozen=True)
class Ranked:
    """Passages `first..last` (one sentence, or adjacent ones) with their fused score."""

    first: int
    last: int
    score: float
    confidence: float


def _paragraph_max(values: Floats, paragraph_of: Ints) -> Floats:
    best = np.full(int(paragraph_of.max()) + 1, -np.inf)
    np.maximum.at(best, paragraph_of, values)
    return best[paragraph_of]


def _shifted(values: Floats, paragraph_of: Ints, step: int, fill: float) -> Floats:
    """values[i - step] when that passage is in the same paragraph, else `fill`."""
    out = np.full_like(values, fill)
    if step > 0:
        same = paragraph_of[step:] == paragraph_of[:-step]
        out[step:] = np.where(same, values[:-step], fill)
    else:
        same = paragraph_of[:step] == paragraph_of[-step:]
        out[:step] = np.where(same, values[-step:], fill)
    return out


FEATURES = (
    "dense", "dense_z", "lexical", "lexical_raw", "coverage", "paragraph_dense",
    "paragraph_lexical", "previous_dense", "next_dense", "previous_lexical", "next_lexical",
    "pronoun_previous_lexical", "centered", "length", "type_match", "quoted_words", "quoted",
)  # fmt: skip


def features(index: Index, question: str, question_vector: Vectors) -> Floats:
    """One row per passage, one column per name in FEATURES."""
    n = len(index)
    dense = (index.vectors @ question_vector).astype(np.float64)
    tokens = lexical_tokens(question)
    lexical_raw = index.bm25.get_scores(tokens).astype(np.float64) if tokens else np.zeros(n)
    lexical = lexical_raw / max(float(lexical_raw.max()), 1e-6)

    weights = np.zeros(index.term_matrix.shape[1])
    for token in set(tokens):
        column = index.vocabulary.get(token)
        if column is not None:
            weights[column] = np.log(1 + n / (1 + index.document_frequency[column]))
    total = (
        sum(
            np.log(
                1
                + n
                / (
                    1
                    + (
                        index.document_frequency[c]
                        if (c := index.vocabulary.get(t)) is not None
                        else 0
                    )
                )
            )
            for t in set(tokens)
        )
        or 1.0
    )
    coverage = index.term_matrix @ weights / total

    shift = question_vector - index.centroid
    centered = index.centered @ shift / max(float(np.linalg.norm(shift)), 1e-6)
    paragraphs = index.paragraph_of
    qtype = question_type(question)
    type_match = index.cues[:, ANSWER_TYPES.index(qtype)] if qtype else np.zeros(n, dtype=bool)
    pronoun_start = index.cues[:, len(ANSWER_TYPES)]
    previous_lexical = _shifted(lexical, paragraphs, 1, 0.0)
    std = float(dense.std()) or 1.0
    return np.column_stack([
        dense,
        (dense - dense.mean()) / std,
        lexical,
        np.log1p(lexical_raw),
        coverage,
        _paragraph_max(dense, paragraphs),
        _paragraph_max(lexical, paragraphs),
        _shifted(dense, paragraphs, 1, -1.0),
        _shifted(dense, paragraphs, -1, -1.0),
        previous_lexical,
        _shifted(lexical, paragraphs, -1, 0.0),
        previous_lexical * pronoun_start,
        centered,
        np.log1p(index.lengths),
        type_match,
        index.quoted * asks_for_words(question),
        index.quoted,
    ])  # fmt: skip


WINDOW_FEATURES = (
    *(f"max_{name}" for name in FEATURES),
    "mean_dense", "mean_lexical", "mean_coverage", "log_chars", "window",
)  # fmt: skip


def candidate_features(index: Index, pairs: Ints, x: Floats) -> Floats:
    """Features of each candidate from those of its sentences (one row per pair)."""
    first, last = x[pairs[:, 0]], x[pairs[:, 1]]
    mean = (first[:, [0, 2, 4]] + last[:, [0, 2, 4]]) / 2
    chars = index.passage_ends[pairs[:, 1]] - index.passage_starts[pairs[:, 0]]
    return np.column_stack(
        [np.maximum(first, last), mean, np.log1p(chars), pairs[:, 1] > pairs[:, 0]]
    )


REFUSAL_FEATURES = (
    "best_score", "best_dense", "best_lexical_raw", "best_coverage", "corpus_coverage",
    "question_terms", "dense_margin",
)  # fmt: skip


def answerability(
    index: Index, question: str, question_vector: Vectors, x: Floats, scores: Floats
) -> Floats:
    """Question-level evidence that the documents answer it (REFUSAL_FEATURES, in order)."""
    best = int(np.argmax(scores))
    column = WINDOW_FEATURES.index
    tokens = set(lexical_tokens(question))
    n = len(index)
    idf = {t: np.log(1 + n / (1 + _df(index, t))) for t in tokens}
    known = sum(w for t, w in idf.items() if _df(index, t) > 0)
    dense = x[:, column("max_dense")]
    return np.array([
        scores[best],
        dense.max(),
        x[best, column("max_lexical_raw")],
        x[best, column("max_coverage")],
        known / sum(idf.values()) if idf else 0.0,
        np.log1p(len(tokens)),
        dense.max() - np.median(dense),
    ])  # fmt: skip


def _df(index: Index, token: str) -> int:
    column = index.vocabulary.get(token)
    return 0 if column is None else int(index.document_frequency[column])


@dataclass(frozen=True)
class _Model:
    weights: Floats
    refusal_weights: Floats
    refusal_bias: float


def _load_model() -> _Model:
    data = json.loads((Path(__file__).parent / "ranker.json").read_text(encoding="utf-8"))
    if (
        tuple(data["features"]) != WINDOW_FEATURES
        or tuple(data["refusal_features"]) != REFUSAL_FEATURES
    ):
        raise RuntimeError(
            "assistant/ranker.json does not match the features: run benchmarks/fit_ranker.py"
        )
    return _Model(
        np.array(data["weights"]), np.array(data["refusal_weights"]), float(data["refusal_bias"])
    )


MODEL = _load_model()


def rank(index: Index, question: str, question_vector: Vectors, top: int = 10) -> list[Ranked]:
    """The best candidates for the question, best first. `confidence` is the calibrated
    probability that the documents answer the question, times the candidate's share relative
    to the best one."""
    if len(index) == 0:
        return []
    pairs = index.candidate_pairs
    x = candidate_features(index, pairs, features(index, question, question_vector))
    scores = x @ MODEL.weights
    evidence = answerability(index, question, question_vector, x, scores)
    answered = float(1 / (1 + np.exp(-(evidence @ MODEL.refusal_weights + MODEL.refusal_bias))))
    order = np.argsort(-scores)[:top]
    best = float(scores[order[0]])
    return [
        Ranked(
            int(pairs[i, 0]),
            int(pairs[i, 1]),
            float(scores[i]),
            answered * float(np.exp(scores[i] - best)),
        )
        for i in order
    ]
