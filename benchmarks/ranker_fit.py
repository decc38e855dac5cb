"""The ranking weights' and the refusal's fit: a training question as the fit sees it
(Prepared), the listwise and logistic losses, the two fits, and the rows and labels they are
fitted on. benchmarks/fit_ranker.py fits the shipped weights with them;
benchmarks/leave_one_corpus_out.py refits them without each corpus in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from assistant.features import WINDOW_FEATURES, Signals
from assistant.index import Index
from assistant.refusal import answerability, answered_probability

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


def _answerable(prepared: list[Prepared]) -> Array:
    """1.0 for a question that has an answer in its documents, 0.0 for one to refuse."""
    return np.array([0.0 if p.labels is None else 1.0 for p in prepared])


@dataclass(frozen=True)
class Fitted:
    """The ranking weights, the refusal's (bias last) fitted on the rows they score, and every
    prepared question's answered probability under both."""

    weights: Array
    refusal: Array
    answered: Array


def fit(prepared: list[Prepared], kept: Array | None = None) -> Fitted:
    """Both fits, on the questions `kept` (a mask over `prepared`; all when None): the shipped
    fit, and each corpus's refit without it in leave-one-corpus-out."""
    use = np.ones(len(prepared), dtype=bool) if kept is None else kept
    weights = _fit_weights([item for n, item in _ranking_items(prepared) if use[n]])
    rx = _refusal_rows(prepared, weights)
    refusal = _fit_refusal(rx[use], _answerable(prepared)[use], _refusal_weights(prepared)[use])
    return Fitted(weights, refusal, _answered(refusal, rx))


def _ranking_items(prepared: list[Prepared]) -> list[tuple[int, tuple[Array, Array, float]]]:
    """(row in `prepared`, (features, labels, weight)) of the questions that have an answer."""
    return [
        (n, (p.x, p.labels.astype(float), p.weight))
        for n, p in enumerate(prepared)
        if p.labels is not None and p.labels.any()
    ]
