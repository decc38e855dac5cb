"""Fit the ranking weights and the refusal calibration on the dev sets; write assistant/ranker.json.

    .venv/bin/python -m benchmarks.fit_ranker [--shared ../shared]

Ranking: a linear score over candidate features, fitted listwise (softmax over a question's
candidates, maximising the probability of those that contain a gold phrase) on the article's dev
questions and the PolicyQA dev split together. Refusal: logistic regression on question-level
features of the best candidate, with answerable questions as positives and, as negatives, the
article's unanswerable dev questions, general off-topic questions (offtopic-questions.txt), and
each corpus's questions asked of the other corpus. No held-out question is used.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from assistant.core import Assistant
from assistant.embedding import default_embedder
from assistant.evaluation import Question, read_eval_file
from assistant.ranking import (
    REFUSAL_FEATURES,
    WINDOW_FEATURES,
    answerability,
    candidate_features,
    features,
)
from assistant.text import fold

HERE = Path(__file__).resolve().parent
ARTICLE_WEIGHT = 50.0  # the article has 15 answerable dev questions, PolicyQA 3,809: balance them
L2 = 1e-3


Array = np.ndarray


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    args = parser.parse_args()
    embedder = default_embedder()
    tmp = Path(tempfile.mkdtemp(prefix="fit-ranker-"))
    article = read_eval_file(args.shared / "eval/kaspersky-dev.jsonl", None, tmp)[0]
    policies = read_eval_file(args.shared / "eval/policyqa/dev.json", None, tmp)
    offtopic = [
        Question(line.strip(), None)
        for line in (HERE / "offtopic-questions.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    rng = random.Random(0)
    policy_questions = [q for s in policies for q in s.questions]
    # (knowledge dir, questions, weight): cross-corpus questions are unanswerable there.
    groups = [(article.knowledge_dir, article.questions, ARTICLE_WEIGHT)]
    groups.append(
        (
            article.knowledge_dir,
            [Question(q.text, None) for q in rng.sample(policy_questions, 300)],
            1.0,
        )
    )
    groups.append((article.knowledge_dir, offtopic, 3.0))
    for s in policies:
        groups.append((s.knowledge_dir, s.questions, 1.0))
        crossed = [Question(q.text, None) for q in article.questions if q.gold]
        groups.append((s.knowledge_dir, crossed + rng.sample(offtopic, 10), 1.0))

    loaded: dict[Path | None, Assistant] = {}
    prepared = []  # (assistant, question, candidate features, labels or None, weight)
    for folder, questions, weight in groups:
        assistant = loaded.setdefault(folder, Assistant.load(folder, embedder=embedder))
        index = assistant.index
        pairs = index.candidate_pairs
        texts = [
            fold(
                index.documents[int(index.doc_of[a])].text[
                    index.passage_starts[a] : index.passage_ends[b]
                ]
            )
            for a, b in pairs
        ]
        vectors = embedder.embed([q.text for q in questions])
        for q, v in zip(questions, vectors, strict=True):
            x = candidate_features(index, pairs, features(index, q.text, v))
            labels = (
                None
                if q.gold is None
                else np.array([any(fold(g) in t for g in q.gold) for t in texts])
            )
            prepared.append((index, q, v, x, labels, weight))
    print(f"prepared {len(prepared)} questions")

    rank_items = [
        (x, y.astype(float), w) for _, _, _, x, y, w in prepared if y is not None and y.any()
    ]
    w0 = np.zeros(len(WINDOW_FEATURES))
    w0[0] = 1.0
    weights = minimize(
        lambda w: _softmax_loss(w, rank_items, L2), w0, jac=True, method="L-BFGS-B"
    ).x

    rows, answerable, row_weight = [], [], []
    for index, q, v, x, labels, w in prepared:
        scores = x @ weights
        rows.append(answerability(index, q.text, v, x, scores, float(np.median(index.vectors @ v))))
        answerable.append(0.0 if labels is None else 1.0)
        row_weight.append(w)
    rx, ry, rw = np.array(rows), np.array(answerable), np.array(row_weight)
    # Balance the classes so the 0.5 threshold sits between them.
    for label in (0.0, 1.0):
        rw[ry == label] *= 0.5 * rw.sum() / rw[ry == label].sum()
    refusal = minimize(
        lambda w: _logistic_loss(w, rx, ry, rw, 1e-3),
        np.zeros(rx.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
    ).x
    p = 1 / (1 + np.exp(-(rx @ refusal[:-1] + refusal[-1])))
    print(
        f"refusal fit: answerable answered {np.mean(p[ry == 1] >= 0.5):.3f}, unanswerable refused {np.mean(p[ry == 0] < 0.5):.3f}"
    )
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
    print(f"wrote {target}")
    for name, value in zip(WINDOW_FEATURES, weights, strict=True):
        print(f"  {name:32s} {value:+.3f}")
    for name, value in zip(REFUSAL_FEATURES, refusal, strict=False):
        print(f"  refusal {name:24s} {value:+.3f}")


if __name__ == "__main__":
    main()
