"""Fitting the question adapter (assistant/question.py): the matrix A of q + A q, and the
fitted questions' vectors, answers and answer words it keeps for familiarity and exemplars.

A is fitted on the PolicyQA questions: a softmax over each policy's sentences of (q + A q) . p,
maximising the mass on the sentences that contain a gold phrase, with L2 towards A = 0.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.optimize import minimize

from assistant.question import EXEMPLAR_TERMS, Adapter
from assistant.text import lexical_tokens
from benchmarks.training_data import Asked, sentence_labels

ADAPTER_L2 = 0.01  # chosen by five-fold cross-validation by policy (0.1, 0.03, 0.01, 0.001)
ADAPTER_FOLDS = 5
TEMPERATURE = 20.0  # cosine similarities are in [-1, 1]; the softmax needs a sharper scale
DIM = 384

Array = np.ndarray


def _adapter_loss(
    a: Array, batches: list[tuple[Array, Array, Array]], l2: float
) -> tuple[float, Array]:
    """Softmax over a document set's sentences of (q + A q) . p, maximising the mass on those
    that contain a gold phrase. `batches`: (sentence vectors, question vectors, labels)."""
    matrix = a.reshape(DIM, DIM)
    total, grad, count = 0.0, np.zeros((DIM, DIM)), 0
    for passages, questions, labels in batches:
        s = TEMPERATURE * (questions + questions @ matrix.T) @ passages.T
        e = np.exp(s - s.max(1, keepdims=True))
        z = e.sum(1, keepdims=True)
        hit = (e * labels).sum(1, keepdims=True)
        total -= float((np.log(hit + 1e-300) - np.log(z)).sum())
        g = TEMPERATURE * (e / z - e * labels / hit)
        grad += (g @ passages).T @ questions
        count += len(questions)
    return total / count + l2 * a @ a, grad.ravel() / count + 2 * l2 * a


def _fit_adapter(batches: list[tuple[Array, Array, Array]]) -> Array:
    fitted = minimize(
        lambda a: _adapter_loss(a, batches, ADAPTER_L2),
        np.zeros(DIM * DIM),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 200},
    )
    return np.asarray(fitted.x.reshape(DIM, DIM), dtype=np.float32)


def _unit_mean(vectors: list[Array]) -> Array:
    """The unit-length mean of `vectors`, or zeros when there are none."""
    if not vectors:
        return np.zeros(DIM, dtype=np.float32)
    mean = np.mean(vectors, axis=0)
    return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)


def _top_terms(answers: list[set[str]]) -> tuple[list[str], list[float]]:
    """The EXEMPLAR_TERMS words most of `answers` contain, with the share that does ("" pads)."""
    counts = Counter(word for answer in answers for word in answer)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:EXEMPLAR_TERMS]
    words = [word for word, _ in top]
    shares = [count / len(answers) for _, count in top]
    pad = EXEMPLAR_TERMS - len(top)
    return words + [""] * pad, shares + [0.0] * pad


def fit_adapters(asked: list[Asked], fold_of: dict[int, int]) -> dict[int | None, Adapter]:
    """One adapter per fold of policies, fitted without it (for the ranker's training features),
    and one on all of them (key None, the shipped one). `fold_of`: id(index) -> fold."""
    batches: dict[int, tuple[Array, list[Array], list[Array]]] = {}
    for a in asked:
        if id(a.index) in fold_of and a.labels is not None and a.labels.any():
            entry = batches.setdefault(id(a.index), (a.index.vectors, [], []))
            entry[1].append(a.vectors[0])
            entry[2].append(sentence_labels(a.index, a.labels))

    def batch_list(skip: int | None) -> list[tuple[Array, Array, Array]]:
        return [
            (p.astype(np.float64), np.array(q, np.float64), np.array(y, np.float64))
            for key, (p, q, y) in batches.items()
            if fold_of[key] != skip
        ]

    adapters: dict[int | None, Adapter] = {}
    for k in [*range(ADAPTER_FOLDS), None]:
        # question: its vector, its answers' vectors, their lexical tokens (a set per answer)
        seen: dict[str, tuple[Array, list[Array], list[set[str]]]] = {}
        for a in asked:
            index = a.index
            if id(index) in fold_of and fold_of[id(index)] != k and a.labels is not None:
                answers = np.flatnonzero(sentence_labels(index, a.labels))
                known = seen.setdefault(a.read_as, (a.vectors[0], [], []))
                known[1].extend(index.vectors[answers])
                known[2].extend(set(lexical_tokens(index.text(int(i)))) for i in answers)
        terms, shares = zip(*(_top_terms(words) for *_, words in seen.values()), strict=True)
        adapters[k] = Adapter(
            _fit_adapter(batch_list(k)),
            np.array([v for v, *_ in seen.values()]),
            np.array([_unit_mean(vectors) for _, vectors, _ in seen.values()]),
            np.array(terms),
            np.array(shares, dtype=np.float32),
        )
        print(f"adapter {'on all policies' if k is None else f'without fold {k}'} fitted")
    return adapters
