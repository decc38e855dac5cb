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
Our own corpora (the article; our plain documents) are cross-validated by question and printed.
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

from assistant.embedding import default_embedder
from assistant.evaluation import EvalSet
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
    ask_all,
    read_training_sets,
    training_groups,
)

HERE = Path(__file__).resolve().parent
# Ranking weights' L2, from 1e-2 / 1e-3 / 3e-4 / 1e-4: article CV hit@1 0.556 / 0.603 / 0.619 / 0.603,
# PolicyQA out-of-fold hit@1 0.286 / 0.283 / 0.283 / 0.287.
L2 = 3e-4
ARTICLE_FOLDS = 5
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
        prepared.append(Prepared(a.index, given, x, a.labels, a.weight))
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


class HeldOut(NamedTuple):
    """Per question of `prepared`, as cross_validation saw it from outside its fold: whether its
    ranking hit at 1 and at 3 (NaN for a question without an answer or outside the corpora), and
    its answered probability."""

    hit1: Array
    hit3: Array
    answered: Array


def cross_validation(prepared: list[Prepared], rows: Array) -> HeldOut:
    """Rank and refuse the questions of our own corpora (`rows`), each fold by weights fitted
    without it.

    Their questions are too few to set aside a test set for fitting decisions, so they are
    cross-validated: five folds of their questions, answerable or not. Each fold is ranked
    with weights fitted without it (PolicyQA always in), and refused by a refusal fitted without
    it on features computed with those weights, so nothing it asks leaks in."""
    items = _ranking_items(prepared)
    ry = _answerable(prepared)
    rw = np.array([p.weight for p in prepared])
    question_fold = np.full(len(prepared), -1)
    question_fold[rows] = np.arange(rows.sum()) % ARTICLE_FOLDS
    held = HeldOut(*(np.full(len(prepared), np.nan) for _ in range(3)))
    for k in range(ARTICLE_FOLDS):
        kept = question_fold != k
        fold_weights = _fit_weights([item for n, item in items if kept[n]])
        for n, (x, y, _) in items:
            if not kept[n]:
                held.hit1[n], held.hit3[n] = _top_hits(x, y, fold_weights)
        fold_rx = _refusal_rows(prepared, fold_weights)
        held.answered[~kept] = _answered(
            _fit_refusal(fold_rx[kept], ry[kept], rw[kept]), fold_rx[~kept]
        )
    return held


def _report(name: str, held: HeldOut, rows: Array, prepared: list[Prepared]) -> None:
    ry = _answerable(prepared) == 1.0
    ranked = rows & ~np.isnan(held.hit1)
    p = held.answered
    answered, refused = np.mean(p[rows & ry] >= 0.5), np.mean(p[rows & ~ry] < 0.5)
    print(
        f"{name}, {rows.sum()} questions cross-validated in {ARTICLE_FOLDS} folds: ranking "
        f"({ranked.sum()} answerable; no refusal, no diversity) "
        f"hit@1 {held.hit1[ranked].mean():.3f}, hit@3 {held.hit3[ranked].mean():.3f}; "
        f"answerable answered {answered:.3f}, unanswerable refused {refused:.3f}"
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
    refusal = _fit_refusal(rx, ry, np.array([p.weight for p in prepared]))
    p = _answered(refusal, rx)
    print(
        f"refusal fit: answerable answered {np.mean(p[ry == 1] >= 0.5):.3f}, "
        f"unanswerable refused {np.mean(p[ry == 0] < 0.5):.3f}"
    )

    def rows_of(corpus: EvalSet) -> Array:
        own = {id(q) for q in corpus.questions}
        return np.array([id(a.question) in own for a in asked])

    # The article alone; our plain documents together (one pass for all of them), each reported.
    article = rows_of(sets.article)
    _report("Article", cross_validation(prepared, article), article, prepared)
    plain = {Path(corpus.knowledge_dir or "").name: rows_of(corpus) for corpus in sets.own}
    held = cross_validation(prepared, np.logical_or.reduce(list(plain.values())))
    for name, rows in plain.items():
        _report(name, held, rows, prepared)
    write_fitted(weights, refusal, adapters, fold_of_title)
    for name, value in zip(WINDOW_FEATURES, weights, strict=True):
        print(f"  {name:32s} {value:+.3f}")
    for name, value in zip(REFUSAL_FEATURES, refusal, strict=False):
        print(f"  refusal {name:24s} {value:+.3f}")


if __name__ == "__main__":
    main()
