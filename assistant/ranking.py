"""Hybrid ranking of candidate quotes for a question, and the decision whether to answer.

A linear model fitted on the dev sets (benchmarks/fit_ranker.py) weighs the candidates' features
(assistant/features.py) into one score; the refusal's probability (assistant/refusal.py) scales
every candidate's confidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from assistant.cues import FACT_TYPES
from assistant.embedding import Vectors
from assistant.features import (
    CANDIDATE_FEATURES,
    WINDOW_FEATURES,
    Floats,
    candidate_features,
    features,
    signals,
)
from assistant.index import Index
from assistant.question import ADAPTER_FILE, Adapter, load_adapter
from assistant.refusal import REFUSAL_FEATURES, answerability, answered_probability


@dataclass(frozen=True)
class Ranked:
    """Passages `first..last` (one sentence, or adjacent ones) with their fused score."""

    first: int
    last: int
    score: float
    confidence: float


@dataclass(frozen=True)
class Ranking:
    """The best candidates, best first, and what the refusal made of the question."""

    candidates: list[Ranked]
    unmentioned: list[str]  # names in the question that no passage contains
    # The probability that the documents answer the rest of the question, were those names words
    # they use (the first candidate's confidence when there are none).
    answered_without_names: float
    # The kind of fact the question asks for (a figure, a date, ...) when the first candidate
    # holds none (cues.FACT_TYPES), else None: the topic may be covered, the fact asked not.
    missing_fact: str | None = None


@dataclass(frozen=True)
class Ranker:
    """The fitted weights: ranking, refusal, and the question adapter."""

    weights: Floats
    refusal_weights: Floats
    refusal_bias: float
    adapter: Adapter

    def weights_for(self, familiarity: float) -> Floats:
        """One weight per candidate feature for a question this familiar: the same scores as
        with_familiarity(x) @ weights, without building that matrix per question."""
        own, familiar = np.split(self.weights, 2)
        combined: Floats = own + familiarity * familiar
        return combined


HERE = Path(__file__).parent


@cache
def shipped_ranker() -> Ranker:
    """The fitted weights shipped in assistant/, read once on first use (the fitting script runs
    without them)."""
    data = json.loads((HERE / "ranker.json").read_text(encoding="utf-8"))
    if (
        tuple(data["features"]) != WINDOW_FEATURES
        or tuple(data["refusal_features"]) != REFUSAL_FEATURES
    ):
        raise RuntimeError(
            "assistant/ranker.json does not match the features: run benchmarks/fit_ranker.py"
        )
    return Ranker(
        np.array(data["weights"]),
        np.array(data["refusal_weights"]),
        float(data["refusal_bias"]),
        load_adapter(ADAPTER_FILE),
    )


def rank(
    index: Index,
    question: str,
    vectors: Vectors,
    ranker: Ranker | None = None,
    top: int = 10,
) -> Ranking:
    """The best candidates for the question, best first. `confidence` is the calibrated
    probability that the documents answer the question, times the candidate's share relative
    to the best one. `vectors`: from question_vectors; `ranker` defaults to the shipped one."""
    if len(index) == 0:
        return Ranking([], [], 0.0)
    model = ranker or shipped_ranker()
    given = signals(index, question, vectors, model.adapter)
    rows = given.rows  # sorted
    # The candidates within the rows, and each passage's row, without a pass over every passage.
    pairs = index.candidate_pairs_in(rows)
    per_passage = features(index, question, given)
    x = candidate_features(index, pairs, per_passage, rows)
    scores = x @ model.weights_for(given.familiarity)

    def answered(names_as_known: bool) -> float:
        evidence = answerability(index, given, x, scores, names_as_known)
        return float(answered_probability(evidence, model.refusal_weights, model.refusal_bias))

    as_asked = answered(names_as_known=False)
    order = np.argsort(-scores)[:top]
    best = float(scores[order[0]])
    candidates = [
        Ranked(
            int(pairs[i, 0]),
            int(pairs[i, 1]),
            float(scores[i]),
            as_asked * float(np.exp(scores[i] - best)),
        )
        for i in order
    ]
    names = given.unknown_names
    kind = given.answer_type
    missing = (
        kind
        if kind in FACT_TYPES and not x[order[0], CANDIDATE_FEATURES.index("max_type_match")]
        else None
    )
    return Ranking(candidates, names, answered(names_as_known=True) if names else as_asked, missing)


# Reciprocal rank fusion's constant (Cormack et al., 2009): on our dialogues 3, 10 and 60 rank
# alike (1 loses hit@3), so the usual value.
FUSION_K = 60.0


def fused(primary: Ranking, secondary: Ranking) -> Ranking:
    """`primary`'s candidates reordered by reciprocal rank fusion with `secondary`'s ranking (a
    candidate ranks in `secondary` where its best sentence does), equal weights. The refusal and
    the best confidence stay `primary`'s; the others keep their share of the fused score."""
    if not primary.candidates:
        return primary
    where: dict[int, int] = {}
    for rank_of, candidate in enumerate(secondary.candidates):
        for passage in range(candidate.first, candidate.last + 1):
            where.setdefault(passage, rank_of)
    missing = len(secondary.candidates)

    def score(rank_of: int, candidate: Ranked) -> float:
        other = min(where.get(p, missing) for p in range(candidate.first, candidate.last + 1))
        return 1 / (FUSION_K + rank_of) + 1 / (FUSION_K + other)

    scored = sorted(
        ((score(i, c), c) for i, c in enumerate(primary.candidates)), key=lambda t: -t[0]
    )
    best_score, best_confidence = scored[0][0], primary.candidates[0].confidence
    candidates = [Ranked(c.first, c.last, s, best_confidence * s / best_score) for s, c in scored]
    return replace(primary, candidates=candidates)
