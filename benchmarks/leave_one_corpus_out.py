"""Leave-one-corpus-out: how the ranking and the refusal fitted by benchmarks/fit_ranker.py
do on a corpus they have never seen.

The corpora are the article, each of our plain documents and each fold of PolicyQA policies. Each
is left out whole: the ranking weights and the refusal are refitted without its documents and
without its questions wherever they were asked (of its documents or, as questions to refuse, of
another corpus's), so nothing it says or asks leaks in, the nearest the training material comes
to a new folder of documents and the people who ask about it. Leaving out single questions would
not do: a corpus's questions share its wording and its documents, and the refusal would learn
them. (A policy's candidate features come from the question adapter fitted without its fold,
benchmarks/fit_ranker.py's prepare.)

For each corpus it measures, on its own answerable questions, hit@1 and hit@3 of the ranking
alone, next to plain dense, plain BM25 and their fusion, the prior the learned score has to beat
(assistant/features.py, plain_fusion); the share answered at ANSWER_THRESHOLD and answered sure
at SURE_THRESHOLD; and, of the questions asked of its documents that they do not answer, the
share refused and the share refused or unsure (and of its own such questions, the near misses).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from assistant.core import ANSWER_THRESHOLD, SURE_THRESHOLD, Assistant
from assistant.features import WINDOW_FEATURES
from benchmarks.ranker_fit import Prepared, _answerable, _hits, _ranking_items, fit
from benchmarks.training_data import Asked, TrainingSets

Array = np.ndarray


@dataclass(frozen=True)
class Corpus:
    """One corpus of the fit, as leave-one-corpus-out sees it: `own` marks its questions asked
    of its documents (answerable or not), `unanswerable` every question asked of its documents
    that they do not answer (its own and others'), `involved` every question that touches it
    (asked of its documents, or its questions asked of another corpus's)."""

    name: str
    own: Array
    unanswerable: Array
    involved: Array


def corpora(
    asked: list[Asked], groups: dict[str, tuple[set[int], set[str], set[int] | None]]
) -> list[Corpus]:
    """`groups`: name -> (ids of its indexes, texts of its questions, ids of the indexes where
    those texts count as its questions, None for everywhere: PolicyQA's questions repeat from
    policy to policy, so they are its own only where they were asked as another corpus's)."""
    out = []
    for name, (indexes, texts, where) in groups.items():
        here = np.array([id(a.index) in indexes for a in asked])
        mine = np.array([a.question.text in texts for a in asked])
        counted = np.array([where is None or id(a.index) in where for a in asked])
        refuse = np.array([a.labels is None for a in asked])
        out.append(Corpus(name, here & mine, here & refuse, here | mine & counted))
    return out


def corpus_groups(
    sets: TrainingSets, loaded: dict[Path | None, Assistant], fold_of: dict[int, int]
) -> dict[str, tuple[set[int], set[str], set[int] | None]]:
    """The article, each of our plain documents, and each fold of the PolicyQA policies."""
    index_of = {folder: id(a.index) for folder, a in loaded.items()}
    groups: dict[str, tuple[set[int], set[str], set[int] | None]] = {}
    for corpus in (sets.article, *sets.own):
        name = Path(corpus.knowledge_dir).name if corpus.knowledge_dir else "article"
        groups[name] = ({index_of[corpus.knowledge_dir]}, {q.text for q in corpus.questions}, None)
    elsewhere = {i for i in index_of.values() if i not in fold_of}
    for k in sorted(set(fold_of.values())):
        policies = [s for s in sets.policies if fold_of[index_of[s.knowledge_dir]] == k]
        groups[f"PolicyQA fold {k}"] = (
            {index_of[s.knowledge_dir] for s in policies},
            {q.text for s in policies for q in s.questions},
            elsewhere,
        )
    return groups


def summary(figures: dict[str, Figures]) -> str:
    """The mean of our own corpora's figures, and of PolicyQA's folds'."""
    lines = []
    for label, names in (
        ("ours, mean", [n for n in figures if not n.startswith("PolicyQA")]),
        ("PolicyQA, mean", [n for n in figures if n.startswith("PolicyQA")]),
    ):
        if names:
            mean = [
                tuple(np.nanmean([np.array(figures[n][i]) for n in names], axis=0))
                if isinstance(figures[names[0]][i], tuple)
                else float(np.nanmean([figures[n][i] for n in names]))
                for i in range(len(Figures._fields))
            ]
            lines.append(_line(label, Figures(*mean)))  # type: ignore[arg-type]
    return "\n".join(lines)


class Figures(NamedTuple):
    """A left-out corpus's figures (shares of its answerable or unanswerable questions)."""

    hit1: float
    hit3: float
    prior: tuple[float, float]  # the plain_fusion prior alone
    dense: tuple[float, float]  # plain dense order of single sentences
    lexical: tuple[float, float]  # plain BM25 (our tokens) order of single sentences
    answered: float
    refused: float
    answered_sure: float  # answered with a probability of at least SURE_THRESHOLD
    refused_or_unsure: float
    own_refused_or_unsure: float  # of its own unanswerable questions (near misses)


def _plain_hits(x: Array, y: Array, column: str) -> tuple[bool, bool]:
    """hit@1 and hit@3 of single sentences ordered by one candidate feature."""
    single = np.flatnonzero(x[:, WINDOW_FEATURES.index("window")] == 0)
    top = single[np.argsort(-x[single, WINDOW_FEATURES.index(column)], kind="stable")[:3]]
    return bool(y[top[0]]), bool(y[top].any())


def _plain(ranked: list[tuple[Array, Array]], column: str) -> tuple[float, float]:
    if column not in WINDOW_FEATURES:
        return float("nan"), float("nan")
    one, three = np.mean([_plain_hits(x, y, column) for x, y in ranked], axis=0)
    return float(one), float(three)


def leave_one_corpus_out(
    prepared: list[Prepared], groups: list[Corpus], answered: Array | None = None
) -> dict[str, Figures]:
    """Each corpus ranked and refused by weights fitted without it: without its documents and
    without its questions asked anywhere, so nothing it says or asks leaks in. `answered`, when
    given, receives each question's answered probability as its corpus's fit saw it."""
    items = _ranking_items(prepared)
    ry = _answerable(prepared)
    out = {}
    for corpus in groups:
        fitted = fit(prepared, kept=~corpus.involved)
        weights, p = fitted.weights, fitted.answered
        ranked = [(x, y) for n, (x, y, _) in items if corpus.own[n]]
        if answered is not None:
            answered[corpus.own | corpus.unanswerable] = p[corpus.own | corpus.unanswerable]
        answerable = corpus.own & (ry == 1)
        near = corpus.own & (ry == 0)

        def share(values: Array, rows: Array) -> float:
            return float(np.mean(values[rows])) if rows.any() else float("nan")

        out[corpus.name] = Figures(
            *_hits(weights, ranked),
            _plain(ranked, "max_plain_fusion"),
            _plain(ranked, "max_dense"),
            _plain(ranked, "max_lexical_raw"),
            share(p >= ANSWER_THRESHOLD, answerable),
            share(p < ANSWER_THRESHOLD, corpus.unanswerable),
            share(p >= SURE_THRESHOLD, answerable),
            share(p < SURE_THRESHOLD, corpus.unanswerable),
            share(p < SURE_THRESHOLD, near),
        )
        print(_line(corpus.name, out[corpus.name]), flush=True)
    return out


def _line(name: str, f: Figures) -> str:
    return (
        f"{name:>18}: hit@1/3 {f.hit1:.3f} {f.hit3:.3f} | prior {f.prior[0]:.3f} {f.prior[1]:.3f}"
        f" | dense {f.dense[0]:.3f} {f.dense[1]:.3f} | bm25 {f.lexical[0]:.3f} {f.lexical[1]:.3f}"
        f" | answered {f.answered:.3f} refused {f.refused:.3f} | sure {f.answered_sure:.3f}"
        f" refused/unsure {f.refused_or_unsure:.3f} (own {f.own_refused_or_unsure:.3f})"
    )
