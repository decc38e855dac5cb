"""signals() of a large index (one with a graph, index.nearest): the same Signals as the exact
path in assistant/features.py, computed without a pass over every vector or every passage.

Why a module of its own: from assistant/ann.py's THRESHOLD on, a large index answers a question
without touching every vector or every passage's tokens. The graph gives the passages most like
the question (their similarity then computed exactly), BM25 reads only the lists of the passages
that hold the question's words, coverage and the exemplar's words are summed for the shortlist
only, and the statistics come from the index's fixed sample. features.signals() dispatches here;
this module imports from assistant/features.py, which imports it only inside signals() (no cycle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.embedding import Vectors
from assistant.features import (
    SHORTLIST,
    Ints,
    Signals,
    _lexical,
    _paragraphs_of,
    shared_signals,
)
from assistant.index import Index
from assistant.question import Adapter


def approximate_signals(index: Index, question: str, vectors: Vectors, adapter: Adapter) -> Signals:
    """signals() of a large index, with no pass over every vector or every passage's tokens:
    the graph (index.nearest) gives the passages most like the question, whose similarity is
    then computed exactly; BM25 reads only the lists of the passages that hold the question's
    words; coverage and the exemplar's words are summed for the shortlist only; the dense
    similarity's mean, spread and median come from the fixed sample."""
    assert index.nearest is not None
    n = len(index)
    question_vector = vectors[0]
    lexical_raw, idf, paragraph_lexical = _lexical(index, question)
    exemplar = adapter.exemplar(question_vector)
    exemplar_weights = {t: s * index.idf(t) for t, s in exemplar.terms.items()}
    # The passages most like the question, in exact order among those the graph found.
    near = index.nearest.search(question_vector, SHORTLIST)
    near_dense = index.vectors[near] @ question_vector
    near = near[np.argsort(-near_dense, kind="stable")[:SHORTLIST]]
    matched = _best(lexical_raw, np.flatnonzero(lexical_raw).astype(np.int32), SHORTLIST)
    best = np.union1d(near, matched)
    rows = np.unique(np.clip(np.concatenate([best - 1, best, best + 1]), 0, n - 1)).astype(np.int32)
    scope = _paragraphs_of(index, rows)
    # The scope's float16 vectors as float32 once, for the four similarities (each made its own
    # copy: 2.4 ms of 2,841 passages, the median at a million passages; measured).
    scoped = index.vectors[scope].astype(np.float32)
    dense: npt.NDArray[Any] = np.full(n, -1.0, dtype=np.float32)
    dense[scope] = scoped @ question_vector
    sample = index.sample_vectors @ question_vector
    dense_stats = (float(sample.mean()), float(sample.std()), float(np.median(sample)))
    coverage: npt.NDArray[Any] = np.zeros(n, dtype=np.float32)
    coverage[rows] = index.term_sum_at(idf, rows) / (sum(idf.values()) or 1.0)
    exemplar_lexical: npt.NDArray[Any] = np.zeros(n, dtype=np.float32)
    most = max(index.term_sum_max(exemplar_weights), 1e-6)
    exemplar_lexical[rows] = index.term_sum_at(exemplar_weights, rows) / most
    return Signals(
        **shared_signals(index, question, vectors, adapter, exemplar, scope, scoped),
        idf=idf,
        dense=dense,
        lexical_raw=lexical_raw,
        coverage=coverage,
        paragraph_lexical=paragraph_lexical,
        rows=rows,
        exemplar_lexical=exemplar_lexical,
        dense_median=dense_stats[2],
        dense_stats=dense_stats,
        dense_rank=_ranked(n, near),
        lexical_rank=_ranked(n, matched),
    )


def _best(values: npt.NDArray[Any], among: Ints, size: int) -> Ints:
    """The first `size` of `among` (ascending passage numbers) by `values`, best first, ties in
    passage order: what a stable sort of all of them gives, sorting only those at least the
    size-th best. At a million passages, where a question's words are in most of them, sorting
    all took 17 ms at the median and 36 ms at p90; this, 2.8 and 6.4 ms (measured)."""
    if len(among) > size:
        kth = len(among) - size
        among = among[values[among] >= np.partition(values[among], kth)[kth]]
    best: Ints = among[np.argsort(-values[among], kind="stable")[:size]]
    return best


def _ranked(n: int, order: Ints) -> Ints:
    """ranks() from passages already in order, best first."""
    out = np.full(n, SHORTLIST, dtype=np.int32)
    out[order[:SHORTLIST]] = np.arange(min(len(order), SHORTLIST), dtype=np.int32)
    return out
