"""Whether the documents answer a question at all: question-level evidence, and the logistic
that turns it into a probability (its weights are fitted by benchmarks/fit_ranker.py)."""

from __future__ import annotations

import numpy as np

from assistant.features import CANDIDATE_FEATURES, Floats, Signals
from assistant.index import Index
from assistant.text import lexical_tokens

REFUSAL_FEATURES = (
    "best_score", "best_dense", "best_lexical_raw", "best_coverage", "corpus_coverage",
    "question_terms", "dense_margin", "known_share", "best_adapted", "adapted_margin",
    "best_focused", "focused_margin", "unknown_names", "familiarity", "type_missing",
)  # fmt: skip
# What a passage's similarity to an unrelated question typically is; a small corpus's own median
# is blended towards it, so one or two passages do not make every question look off-topic.
TYPICAL_UNRELATED_DENSE = 0.1
PRIOR_PASSAGES = 20


def answerability(
    index: Index, given: Signals, x: Floats, scores: Floats, names_as_known: bool = False
) -> Floats:
    """Question-level evidence that the documents answer it (REFUSAL_FEATURES, in order), from
    the question's signals and its candidates' features and scores. `names_as_known`: the
    evidence were the names the documents never mention words they use, that is, whether they
    answer the rest of the question ("Can I get a Labrador?" of a rule on dogs)."""
    best = int(np.argmax(scores))
    column = CANDIDATE_FEATURES.index
    n = len(index)
    names = set()  # the names' tokens, left out of what the documents must know
    if names_as_known:
        names = {t for name in given.unknown_names for t in lexical_tokens(name)}
    idf = {t: v for t, v in given.idf.items() if t not in names}
    known = [t for t in idf if index.passages_with(t) > 0]
    dense, moved = x[:, column("max_dense")], x[:, column("max_adapted")]
    focus = x[:, column("max_focused")]

    def margin(best: float, median: float) -> float:
        prior = PRIOR_PASSAGES * TYPICAL_UNRELATED_DENSE
        return best - (n * median + prior) / (n + PRIOR_PASSAGES)

    return np.array([
        scores[best],
        dense.max(),
        x[best, column("max_lexical_raw")],
        x[best, column("max_coverage")],
        sum(idf[t] for t in known) / sum(idf.values()) if idf else 0.0,
        np.log1p(len(given.idf)),
        margin(dense.max(), given.dense_median),
        len(known) / len(idf) if idf else 0.0,
        moved.max(),
        margin(moved.max(), given.moved_stats[2]),
        focus.max(),
        margin(focus.max(), given.focus_stats[2]),
        0 if names_as_known else min(len(given.unknown_names), 2),
        given.familiarity,
        # Asked when / how many / who / why, and the best quote holds no date / figure / name /
        # cause.
        given.answer_type is not None
        and not (x[best, column("max_type_match")] or x[best, column("max_rule_type_match")]),
    ])  # fmt: skip


def answered_probability(evidence: Floats, weights: Floats, bias: float) -> Floats:
    """The refusal's logistic: how likely the documents answer, from answerability() rows."""
    probability: Floats = 1 / (1 + np.exp(-(evidence @ weights + bias)))
    return probability
