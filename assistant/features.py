"""Features of passages and candidate quotes for one question, for the ranker to weigh.

Each passage gets a row (dense and lexical similarity of itself, its paragraph and its
neighbours, question-term coverage, answer-type cues, quotation cues); a candidate (one sentence
or two adjacent ones) gets its sentences' rows combined. Besides the plain question vector,
passages are compared with the question moved by the adapter, with its focused form and with the
answers that questions like it had (assistant/question.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from assistant.cues import ANSWER_TYPES, RULE_TYPES, asks_for_words, question_type
from assistant.embedding import Vectors
from assistant.index import Index
from assistant.question import Adapter, Exemplar, unknown_names
from assistant.text import lexical_tokens

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]


FEATURES = (
    "dense", "dense_z", "lexical", "lexical_raw", "coverage", "paragraph_dense",
    "paragraph_lexical", "previous_dense", "next_dense", "previous_lexical", "next_lexical",
    "pronoun_previous_lexical", "centered", "length", "type_match", "quoted_words", "quoted",
    "paragraph_mean_dense", "paragraph_bm25", "adapted", "adapted_z", "familiar_adapted",
    "familiar_adapted_z", "paragraph_adapted",
    "paragraph_mean_adapted", "centrality", "focused", "focused_z", "paragraph_focused",
    "exemplar", "exemplar_z", "paragraph_exemplar", "exemplar_lexical", "plain_fusion",
    "rule_type_match",
)  # fmt: skip


class Signals(NamedTuple):
    """What a question's features are built from, computed once per question."""

    question: Vectors
    moved_question: Vectors
    familiarity: float
    idf: dict[str, float]  # the question's distinct terms and their IDF in this index
    dense: Floats  # one value per passage
    lexical_raw: Floats  # BM25
    coverage: Floats  # IDF-weighted share of question terms
    paragraph_lexical: Floats  # BM25 of each paragraph, one value per paragraph
    rows: Ints  # the passages scored in full (see shortlist)
    moved: Vectors  # similarity to the adapted question, in the rows' paragraphs (else -1)
    moved_stats: tuple[float, float, float]  # its mean, standard deviation and median
    focus: Vectors  # similarity to the focused question, likewise
    focus_stats: tuple[float, float, float]
    exemplar: Vectors  # similarity to the exemplar answer (Adapter.exemplar), likewise
    exemplar_stats: tuple[float, float, float]
    exemplar_lexical: Floats  # IDF-weighted shares of the exemplar's words, per passage (max 1)
    dense_median: float
    dense_stats: tuple[float, float, float]  # the dense similarity's mean, spread and median
    unknown_names: list[str]  # names in the question (capitalised words) no passage contains
    answer_type: str | None  # what kind of answer the question asks for (cues.ANSWER_TYPES)
    # Each passage's place in plain dense and in plain BM25 order (0 the first; SHORTLIST for
    # every passage past the shortlist)
    dense_rank: Ints
    lexical_rank: Ints
    # In a large index (Index.approximate) `dense`, `coverage` and `exemplar_lexical` hold values
    # only where features need them (the rows' paragraphs, the rows), and the statistics come
    # from the index's fixed sample.


SHORTLIST = 256  # passages scored in full per question: the best by dense and by lexical similarity
# Reciprocal rank fusion's constant for the plain rankings' prior (see plain_fusion): the usual
# value (Cormack et al., 2009), not tuned; the fitted weights decide how much the prior counts.
# Alone, it ranks below plain dense on our documents (leave-one-corpus-out hit@1 0.548 against
# 0.645): our BM25 misses the words a question uses differently; as a feature it moved ours from
# 0.727 / 0.881 to 0.727 / 0.881 and fitness hit@1 from 0.656 to 0.688.
PRIOR_K = 60.0


def ranks(values: npt.NDArray[Any], size: int = SHORTLIST) -> Ints:
    """Each passage's place when sorted by `values`, best first (0), exact for the first `size`
    and `size` for the rest (sorting all of them would cost 8 ms at 100,000 passages)."""
    n = len(values)
    out = np.full(n, size, dtype=np.int32)
    best = np.argpartition(-values, size)[:size] if n > size else np.arange(n)
    order = best[np.argsort(-values[best], kind="stable")]
    out[order] = np.arange(len(order), dtype=np.int32)
    return out


def plain_fusion(dense_rank: Ints, lexical_rank: Ints) -> Floats:
    """Reciprocal rank fusion of plain dense and plain BM25 order, 1 for a passage first in both:
    the prior the learned score has to beat (a question unlike anything fitted is still ranked
    at least as plain search would rank it)."""
    fused: Floats = (
        (PRIOR_K + 1) / 2 * (1 / (PRIOR_K + 1 + dense_rank) + 1 / (PRIOR_K + 1 + lexical_rank))
    )
    return fused


def signals(
    index: Index,
    question: str,
    vectors: Vectors,
    adapter: Adapter,
    every_passage: bool = False,
) -> Signals:
    """What the features are built from, for the shortlist (or `every_passage`, as the fitting
    script needs). `vectors`: from question_vectors."""
    if index.nearest is not None and not every_passage:
        from assistant.nearest_signals import approximate_signals

        return approximate_signals(index, question, vectors, adapter)
    question_vector = vectors[0]
    dense = index.vectors @ question_vector
    lexical_raw, idf, paragraph_lexical = _lexical(index, question)
    coverage = index.term_sum(idf) / (sum(idf.values()) or 1.0)
    exemplar = adapter.exemplar(question_vector)
    exemplar_words = index.term_sum({t: s * index.idf(t) for t, s in exemplar.terms.items()})
    rows = (
        np.arange(len(index), dtype=np.int32)
        if every_passage
        else shortlist(index, dense, lexical_raw)
    )
    median = float(np.median(dense))
    return Signals(
        **shared_signals(index, question, vectors, adapter, exemplar, _paragraphs_of(index, rows)),
        idf=idf,
        dense=dense.astype(np.float32),
        lexical_raw=lexical_raw,
        coverage=coverage.astype(np.float32),
        paragraph_lexical=paragraph_lexical,
        rows=rows,
        exemplar_lexical=(
            exemplar_words / max(float(exemplar_words.max(initial=0.0)), 1e-6)
        ).astype(np.float32),
        dense_median=median,
        dense_stats=(float(dense.mean()), float(dense.std()), median),
        dense_rank=ranks(dense),
        lexical_rank=ranks(lexical_raw),
    )


def _lexical(index: Index, question: str) -> tuple[Floats, dict[str, float], Floats]:
    """The question's BM25 score of every passage, its terms' IDF, and every paragraph's BM25."""
    asked = lexical_tokens(question)
    tokens = list(dict.fromkeys(asked))  # in order, not a set's: BM25 sums them in this order
    lexical_raw: Floats = (
        index.bm25.get_scores(tokens).astype(np.float32, copy=False)
        if tokens
        else np.zeros(len(index), np.float32)
    )
    idf = {t: index.idf(t) for t in tokens}
    return lexical_raw, idf, _paragraph_lexical(index, asked).astype(np.float32, copy=False)


def shared_signals(
    index: Index,
    question: str,
    vectors: Vectors,
    adapter: Adapter,
    exemplar: Exemplar,
    scope: Ints,
    scoped: Vectors | None = None,
) -> dict[str, Any]:
    """The Signals fields the exact and the large-index paths make alike: the question's
    vectors and their similarities in `scope` (the rows' paragraphs; `scoped`, its vectors when
    the caller has them), and what the question names and asks."""
    question_vector, focused_vector = vectors
    moved_question = adapter.move(question_vector)
    moved, moved_stats = _similarity_in(index, scope, moved_question, scoped)
    focus, focus_stats = _similarity_in(index, scope, focused_vector, scoped)
    like_exemplar, exemplar_stats = _similarity_in(index, scope, exemplar.vector, scoped)
    return dict(
        question=question_vector,
        moved_question=moved_question,
        familiarity=exemplar.familiarity,
        moved=moved,
        moved_stats=moved_stats,
        focus=focus,
        focus_stats=focus_stats,
        exemplar=like_exemplar,
        exemplar_stats=exemplar_stats,
        unknown_names=unknown_names(index, question),
        answer_type=question_type(question),
    )


def _paragraph_lexical(index: Index, asked: list[str]) -> Floats:
    if not asked:
        return np.zeros(len(index.paragraph_starts) - 1, dtype=np.float32)
    scores: Floats = index.paragraph_bm25.get_scores(asked)
    return scores


def _similarity_in(
    index: Index, scope: Ints, vector: Vectors, scoped: Vectors | None = None
) -> tuple[Vectors, tuple[float, float, float]]:
    """Similarity to `vector` in `scope` (-1 elsewhere), and its mean, spread and median;
    `scoped`: the scope's vectors, when the caller has them already.

    A second pass over every vector costs 12 ms at 100,000 passages, so it is computed only where
    features need it; the statistics come from a fixed sample (exact up to the sample's size)."""
    values = np.full(len(index), -1.0, dtype=np.float32)
    values[scope] = (index.vectors[scope] if scoped is None else scoped) @ vector
    sample = values[scope] if len(scope) == len(index) else index.sample_vectors @ vector
    return values, (float(sample.mean()), float(sample.std()), float(np.median(sample)))


def _paragraphs_of(index: Index, rows: Ints) -> Ints:
    """Every passage in the paragraphs of `rows`."""
    if len(rows) == len(index):
        return rows
    scope: Ints = index.paragraph_scope(index.paragraph_of[rows])[0].astype(np.int32)
    return scope


def shortlist(index: Index, *scores: npt.NDArray[Any], size: int = SHORTLIST) -> Ints:
    """Sorted passage numbers worth scoring in full: the best by each score, with neighbours."""
    n = len(index)
    if n <= len(scores) * size:
        return np.arange(n, dtype=np.int32)
    best = np.unique(np.concatenate([np.argpartition(-s, size)[:size] for s in scores]))
    return np.unique(np.clip(np.concatenate([best - 1, best, best + 1]), 0, n - 1)).astype(np.int32)


def _z(values: npt.NDArray[Any], mean: float | None = None, std: float | None = None) -> Floats:
    mean = float(values.mean()) if mean is None else mean
    std = float(values.std()) if std is None else std
    scaled: Floats = (values - mean) / (std or 1.0)
    return scaled


class _Paragraphs:
    """The paragraphs of some rows, laid out so that per-row paragraph maxima and neighbours need
    no pass over every passage (the values match those computed over the whole index)."""

    def __init__(self, index: Index, rows: Ints) -> None:
        self.rows = rows
        self.paragraph_of = index.paragraph_of
        self.scope, self.local, self.where = index.paragraph_scope(index.paragraph_of[rows])

    def max(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Each row's paragraph's largest value (`values` over every passage, or a function
        giving them for some passages)."""
        return np.maximum.reduceat(values[self.scope], self.local)[self.where]

    def neighbour(self, values: npt.NDArray[Any], step: int, fill: float) -> npt.NDArray[Any]:
        """values[row - step] when that passage is in the row's paragraph, else `fill`."""
        other = self.rows - step
        inside = (other >= 0) & (other < len(self.paragraph_of))
        other = np.where(inside, other, self.rows)
        same = inside & (self.paragraph_of[other] == self.paragraph_of[self.rows])
        return np.where(same, values[other], np.array(fill, dtype=values.dtype))


class _Scaled:
    """values / scale, computed only where indexed (the same numbers as dividing them all)."""

    def __init__(self, values: npt.NDArray[Any], scale: float) -> None:
        self.values, self.scale = values, scale
        self.dtype = (values[:0] / scale).dtype

    def __getitem__(self, at: npt.NDArray[Any]) -> npt.NDArray[Any]:
        scaled: npt.NDArray[Any] = self.values[at] / self.scale
        return scaled


def features(index: Index, question: str, given: Signals) -> Floats:
    """One row per passage of the shortlist (`given.rows`), one column per name in FEATURES."""
    question_vector, moved_vector, familiarity = (
        given.question,
        given.moved_question,
        given.familiarity,
    )
    dense, lexical_raw, coverage, rows = given.dense, given.lexical_raw, given.coverage, given.rows
    moved, (moved_mean, moved_std, _) = given.moved, given.moved_stats
    focus, (focus_mean, focus_std, _) = given.focus, given.focus_stats
    exemplar, (exemplar_mean, exemplar_std, _) = given.exemplar, given.exemplar_stats
    dense_mean, dense_std, _ = given.dense_stats
    paragraph_lexical = given.paragraph_lexical
    lexical: Any = _Scaled(lexical_raw, max(float(lexical_raw.max()), 1e-6))
    paragraphs = index.paragraph_of
    around = _Paragraphs(index, rows)
    shift = question_vector - index.centroid
    centered = (index.vectors[rows] @ shift - float(index.centroid @ shift)) / (
        index.centered_norms[rows] * max(float(np.linalg.norm(shift)), 1e-6)
    )
    qtype = given.answer_type
    cues = index.cues[rows]
    none = np.zeros(len(rows), dtype=bool)
    matched = cues[:, ANSWER_TYPES.index(qtype)] if qtype else none
    # A rule ("may", "must not") or a step is in most sentences of a policy, a figure or a date in
    # few: each kind gets its own weight, so the common ones do not dilute the telling ones.
    type_match, rule_type_match = (matched, none) if qtype not in RULE_TYPES else (none, matched)
    previous_lexical = around.neighbour(lexical, 1, 0.0)
    quoted = index.quoted[rows]
    paragraph_of_rows = paragraphs[rows]
    paragraph_lexical = paragraph_lexical / max(float(paragraph_lexical.max()), 1e-6)
    paragraph_vectors = index.paragraph_vectors_of(paragraph_of_rows)
    moved_z = _z(moved[rows], moved_mean, moved_std)
    return np.column_stack([
        dense[rows],
        _z(dense[rows], dense_mean, dense_std),
        lexical[rows],
        np.log1p(lexical_raw[rows]),
        coverage[rows],
        around.max(dense),
        around.max(lexical),
        around.neighbour(dense, 1, -1.0),
        around.neighbour(dense, -1, -1.0),
        previous_lexical,
        around.neighbour(lexical, -1, 0.0),
        previous_lexical * cues[:, len(ANSWER_TYPES)],
        centered,
        np.log1p(index.lengths[rows]),
        type_match,
        quoted * asks_for_words(question),
        quoted,
        paragraph_vectors @ question_vector,
        paragraph_lexical[paragraph_of_rows],
        moved[rows],
        moved_z,
        familiarity * moved[rows],
        familiarity * moved_z,
        around.max(moved),
        paragraph_vectors @ moved_vector,
        # A passage close to the centre of the whole text (a summary sentence) looks similar to
        # every question about it, whether or not it answers that one.
        index.vectors[rows] @ index.centroid / max(float(np.linalg.norm(index.centroid)), 1e-6),
        focus[rows],
        _z(focus[rows], focus_mean, focus_std),
        around.max(focus),
        # Exemplars say what answers to the fitted questions looked like: only as telling as the
        # question is like those.
        familiarity * exemplar[rows],
        familiarity * _z(exemplar[rows], exemplar_mean, exemplar_std),
        familiarity * around.max(exemplar),
        familiarity * given.exemplar_lexical[rows],
        plain_fusion(given.dense_rank[rows], given.lexical_rank[rows]),
        rule_type_match,
    ]).astype(np.float32)  # fmt: skip


_AVERAGED_NAMES = ("dense", "lexical", "coverage", "adapted", "centrality", "focused")
CANDIDATE_FEATURES = (
    *(f"max_{name}" for name in FEATURES),
    *(f"mean_{name}" for name in _AVERAGED_NAMES),
    "log_chars", "window",
)  # fmt: skip
# Two weights per candidate feature: one as is, one times the question's familiarity.
# Privacy-policy questions and questions about other kinds of text reward different things (a
# policy's answer often spans two sentences; a letter's rarely does); this lets the weights differ
# between them by degree, learned from data, with no switch per corpus.
WINDOW_FEATURES = (*CANDIDATE_FEATURES, *(f"familiar_{name}" for name in CANDIDATE_FEATURES))
_AVERAGED = [FEATURES.index(name) for name in _AVERAGED_NAMES]


def candidate_features(index: Index, pairs: Ints, x: Floats, rows: Ints | None = None) -> Floats:
    """Features of each candidate from those of its sentences (one row per pair); `rows` (sorted)
    are the passages of the rows of `x` when `x` holds only some passages."""
    at = pairs if rows is None else np.searchsorted(rows, pairs)
    first, last = x[at[:, 0]], x[at[:, 1]]
    mean = (first[:, _AVERAGED] + last[:, _AVERAGED]) / 2
    chars = index.passage_ends[pairs[:, 1]] - index.passage_starts[pairs[:, 0]]
    return np.column_stack(
        [np.maximum(first, last), mean, np.log1p(chars), pairs[:, 1] > pairs[:, 0]]
    )


def with_familiarity(x: Floats, familiarity: float) -> Floats:
    """Candidate features laid out for WINDOW_FEATURES (as the fitting script needs them)."""
    return np.hstack([x, x * familiarity])
