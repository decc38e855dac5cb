"""Fit the question adapter, the ranking weights and the refusal calibration on the dev sets;
write assistant/question_adapter.npz and assistant/ranker.json.

    .venv/bin/python -m benchmarks.fit_ranker [--article-dev FILE] [--policyqa-dev FILE]

The questions come from benchmarks/training_data.py, the adapter from benchmarks/adapter_fit.py.
The ranker is fitted on features computed with out-of-fold adapters (five folds by policy), so it
learns how far an adapted similarity can be trusted on policies the adapter never saw; its
out-of-fold hit rates are printed. Ranking: a linear score over candidate features, fitted
listwise (softmax over a question's candidates, maximising the probability of those that contain
a gold phrase) on every corpus's answerable questions together. Refusal: logistic regression on
question-level features of the best candidate, answerable questions against unanswerable ones.
Every corpus is then validated by leaving it out whole (the article, each of our plain documents,
each fold of PolicyQA policies): ranked and refused by weights fitted without its documents and
without its questions, next to plain dense, plain BM25 and their fusion, the prior the learned
score has to beat (assistant/features.py, plain_fusion).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import minimize

from assistant.core import ANSWER_THRESHOLD, SURE_THRESHOLD, Assistant
from assistant.embedding import default_embedder
from assistant.features import (
    WINDOW_FEATURES,
    Signals,
    candidate_features,
    features,
    signals,
    with_familiarity,
)
from assistant.index import Index
from assistant.question import ADAPTER_FILE, Adapter
from assistant.refusal import REFUSAL_FEATURES, answerability, answered_probability
from benchmarks.adapter_fit import ADAPTER_FOLDS, fit_adapters
from benchmarks.training_data import (
    ARTICLE_DEV,
    ARTICLE_TRAINING,
    OWN_DOCUMENTS,
    POLICYQA_DEV,
    SAMPLE_POLICIES,
    Asked,
    TrainingSets,
    ask_all,
    read_training_sets,
    training_groups,
)

HERE = Path(__file__).resolve().parent
# Ranking weights' L2, from 1e-2 / 1e-3 / 3e-4 / 1e-4: article CV hit@1 0.556 / 0.603 / 0.619 / 0.603,
# PolicyQA out-of-fold hit@1 0.286 / 0.283 / 0.283 / 0.287.
L2 = 3e-4
# A PolicyQA question's weight in the refusal's fit, relative to its weight in the ranking's. Its
# 3,255 answerable questions, every one answered in its policy, taught the refusal that an
# answerable question looks like a privacy-policy question: our own plain documents, each left out
# of the fit in turn (leave-one-corpus-out, mean of the article and our four), had 0.790 of their
# answerable questions answered and 0.937 of the others' questions refused at a threshold of 0.5
# with weight 1; 0.812 / 0.971 with 0.3; 0.828 / 0.981 with 0.1 (near misses refused or unsure
# 0.840, 0.840, 0.817).
REFUSAL_POLICY_WEIGHT = 0.1
FOLDS_FILE = HERE / "results" / "adapter-folds.npz"

Array = np.ndarray


@dataclass(frozen=True)
class Prepared:
    """A training question's signals and candidate features, computed with its fold's adapter."""

    index: Index
    given: Signals
    x: Array
    labels: Array | None
    weight: float
    policy: bool  # a PolicyQA policy's question


def _softmax_loss(
    w: Array, items: list[tuple[Array, Array, float]], l2: float
) -> tuple[float, Array]:
    total, grad, mass = 0.0, np.zeros_like(w), 0.0
    for x, y, weight in items:
        s = x @ w
        p = np.exp(s - s.max())
        p /= p.sum()
        hit = (p * y).sum() + 1e-12
        total -= weight * np.log(hit)
        grad -= weight * x.T @ (p * y / hit - p)
        mass += weight
    return total / mass + l2 * w @ w, grad / mass + 2 * l2 * w


def _logistic_loss(w: Array, x: Array, y: Array, weight: Array, l2: float) -> tuple[float, Array]:
    z = x @ w[:-1] + w[-1]
    p = 1 / (1 + np.exp(-z))
    loss = (
        -(weight * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))).sum() / weight.sum()
    )
    g = weight * (p - y) / weight.sum()
    return loss + l2 * w[:-1] @ w[:-1], np.append(x.T @ g + 2 * l2 * w[:-1], g.sum())


def _fit_weights(items: list[tuple[Array, Array, float]]) -> Array:
    w0 = np.zeros(len(WINDOW_FEATURES))
    w0[0] = 1.0
    return np.asarray(
        minimize(lambda w: _softmax_loss(w, items, L2), w0, jac=True, method="L-BFGS-B").x
    )


def _top_hits(x: Array, y: Array, weights: Array) -> tuple[bool, bool]:
    """Whether the ranking alone puts a labelled candidate first, and among the first three."""
    top = np.argsort(-(x @ weights))[:3]
    return bool(y[top[0]]), bool(y[top].any())


def _hits(weights: Array, items: list[tuple[Array, Array]]) -> tuple[float, float]:
    """hit@1 and hit@3 shares of the ranking alone."""
    one, three = np.mean([_top_hits(x, y, weights) for x, y in items], axis=0)
    return float(one), float(three)


def _fit_refusal(x: Array, y: Array, weight: Array) -> Array:
    """Logistic weights (bias last), with the classes balanced so 0.5 sits between them."""
    weight = weight.copy()
    for label in (0.0, 1.0):
        weight[y == label] *= 0.5 * weight.sum() / weight[y == label].sum()
    return np.asarray(
        minimize(
            lambda w: _logistic_loss(w, x, y, weight, 1e-3),
            np.zeros(x.shape[1] + 1),
            jac=True,
            method="L-BFGS-B",
        ).x
    )


def _refusal_weights(prepared: list[Prepared]) -> Array:
    """Each question's weight in the refusal's fit: a PolicyQA question's times
    REFUSAL_POLICY_WEIGHT."""
    return np.array([p.weight * (REFUSAL_POLICY_WEIGHT if p.policy else 1.0) for p in prepared])


def _answered(refusal: Array, x: Array) -> Array:
    """answered_probability with the weights as _fit_refusal returns them (bias last)."""
    return answered_probability(x, refusal[:-1], float(refusal[-1]))


def _refusal_rows(prepared: list[Prepared], weights: Array) -> Array:
    """Each prepared question's answerability features, its candidates scored with `weights`."""
    return np.array([answerability(p.index, p.given, p.x, p.x @ weights) for p in prepared])


def prepare(
    asked: list[Asked], adapters: dict[int | None, Adapter], fold_of: dict[int, int]
) -> list[Prepared]:
    """Every question's candidate features over all of its index's passages, a policy's with
    the adapter that did not see it."""
    prepared = []
    for a in asked:
        adapter = adapters[fold_of.get(id(a.index))]
        given = signals(a.index, a.read_as, a.vectors, adapter, every_passage=True)
        x = with_familiarity(
            candidate_features(
                a.index, a.index.candidate_pairs, features(a.index, a.read_as, given)
            ),
            given.familiarity,
        )
        policy = id(a.index) in fold_of
        prepared.append(Prepared(a.index, given, x, a.labels, a.weight, policy))
    print(f"prepared {len(prepared)} questions")
    return prepared


def _answerable(prepared: list[Prepared]) -> Array:
    """1.0 for a question that has an answer in its documents, 0.0 for one to refuse."""
    return np.array([0.0 if p.labels is None else 1.0 for p in prepared])


def _ranking_items(prepared: list[Prepared]) -> list[tuple[int, tuple[Array, Array, float]]]:
    """(row in `prepared`, (features, labels, weight)) of the questions that have an answer."""
    return [
        (n, (p.x, p.labels.astype(float), p.weight))
        for n, p in enumerate(prepared)
        if p.labels is not None and p.labels.any()
    ]


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
    rw = _refusal_weights(prepared)
    out = {}
    for corpus in groups:
        kept = ~corpus.involved
        weights = _fit_weights([item for n, item in items if kept[n]])
        rx = _refusal_rows(prepared, weights)
        p = _answered(_fit_refusal(rx[kept], ry[kept], rw[kept]), rx)
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


def write_fitted(
    weights: Array, refusal: Array, adapters: dict[int | None, Adapter], titles: dict[str, int]
) -> None:
    """assistant/ranker.json, the shipped adapter, and the fold adapters crossval reads."""
    out = {
        "note": "Written by benchmarks/fit_ranker.py; do not edit by hand.",
        "features": list(WINDOW_FEATURES),
        "weights": [round(float(v), 5) for v in weights],
        "refusal_features": list(REFUSAL_FEATURES),
        "refusal_weights": [round(float(v), 5) for v in refusal[:-1]],
        "refusal_bias": round(float(refusal[-1]), 5),
    }
    target = HERE.parent / "assistant" / "ranker.json"
    target.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(ADAPTER_FILE, **adapters[None].arrays(dtype=np.float16))
    FOLDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    folds: dict[str, Any] = {
        "titles": np.array(list(titles)),
        "folds": np.array(list(titles.values())),
    }
    for k in range(ADAPTER_FOLDS):
        folds.update(adapters[k].arrays(suffix=str(k)))
    np.savez(FOLDS_FILE, **folds)
    print(f"wrote {target}, {ADAPTER_FILE} and {FOLDS_FILE} (for benchmarks.crossval)")


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--article-dev", type=Path, default=ARTICLE_DEV, help="default: %(default)s"
    )
    parser.add_argument(
        "--policyqa-dev", type=Path, default=POLICYQA_DEV, help="default: %(default)s"
    )
    args = parser.parse_args()
    print(
        f"fitting on the article's dev set {_shown(args.article_dev)} and "
        f"{_shown(ARTICLE_TRAINING)}, PolicyQA dev {_shown(args.policyqa_dev)} (less the "
        f"policies of {_shown(SAMPLE_POLICIES)}) and our documents' {_shown(OWN_DOCUMENTS)}/"
        "*-train.jsonl",
        flush=True,
    )
    sets = read_training_sets(
        Path(tempfile.mkdtemp(prefix="fit-ranker-")), args.article_dev, args.policyqa_dev
    )
    loaded, asked = ask_all(training_groups(sets), default_embedder())
    fold_of_title = {s.name: n % ADAPTER_FOLDS for n, s in enumerate(sets.every_policy)}
    fold_of = {id(loaded[s.knowledge_dir].index): fold_of_title[s.name] for s in sets.policies}
    adapters = fit_adapters(asked, fold_of)
    prepared = prepare(asked, adapters, fold_of)

    weights = _fit_weights([item for _, item in _ranking_items(prepared)])
    policy_items = [
        (p.x, p.labels) for p in prepared if id(p.index) in fold_of and p.labels is not None
    ]
    print(
        "PolicyQA ranking with out-of-fold adapters (no refusal, no diversity): "
        "hit@1 {:.3f}, hit@3 {:.3f}".format(*_hits(weights, policy_items))
    )
    rx = _refusal_rows(prepared, weights)
    ry = _answerable(prepared)
    refusal = _fit_refusal(rx, ry, _refusal_weights(prepared))
    p = _answered(refusal, rx)
    print(
        f"refusal fit: answerable answered {np.mean(p[ry == 1] >= ANSWER_THRESHOLD):.3f}, "
        f"unanswerable refused {np.mean(p[ry == 0] < ANSWER_THRESHOLD):.3f}"
    )

    figures = leave_one_corpus_out(prepared, corpora(asked, corpus_groups(sets, loaded, fold_of)))
    print(summary(figures))
    write_fitted(weights, refusal, adapters, fold_of_title)
    for name, value in zip(WINDOW_FEATURES, weights, strict=True):
        print(f"  {name:32s} {value:+.3f}")
    for name, value in zip(REFUSAL_FEATURES, refusal, strict=False):
        print(f"  refusal {name:24s} {value:+.3f}")


if __name__ == "__main__":
    main()
