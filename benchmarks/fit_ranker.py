"""Fit the question adapter, the ranking weights and the refusal calibration on the dev sets;
write assistant/question_adapter.npz and assistant/ranker.json.

    .venv/bin/python -m benchmarks.fit_ranker [--shared ../shared]

Adapter: a 384 x 384 matrix A, so that passages are also compared with q + A q; fitted on the
PolicyQA dev questions (softmax over each policy's sentences, L2 towards A = 0), except the three
policies in tests/data/policyqa-dev-sample.json, which no fit sees. It keeps those questions'
vectors and their answers' (for familiarity and exemplar answers). The ranker is fitted
on features computed with out-of-fold adapters (five folds by policy), so it learns how far an
adapted similarity can be trusted on policies the adapter never saw; its out-of-fold hit rates are
printed. Ranking: a linear score over candidate features, fitted listwise (softmax over a question's
candidates, maximising the probability of those that contain a gold phrase) on the article's dev
questions, our own training questions about it (article-train.jsonl), our employee handbook's
(handbook/, handbook-train.jsonl) and the PolicyQA dev split together. Refusal: logistic
regression on question-level features of the best candidate, with answerable questions as
positives and, as negatives, the unanswerable questions of the article and the handbook, general
off-topic questions (offtopic-questions.txt), and each corpus's questions asked of another. No
question of tests/data/held-out.jsonl or tests/data/library-held-out.jsonl is used.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import minimize

from assistant.core import Assistant
from assistant.embedding import Embedder, default_embedder
from assistant.evaluation import EvalSet, Question, read_eval_file
from assistant.features import (
    WINDOW_FEATURES,
    Signals,
    candidate_features,
    features,
    signals,
    with_familiarity,
)
from assistant.index import Index
from assistant.question import ADAPTER_FILE, EXEMPLAR_TERMS, Adapter, question_vectors
from assistant.refusal import REFUSAL_FEATURES, answerability, answered_probability
from assistant.text import fold, lexical_tokens

HERE = Path(__file__).resolve().parent
# The article has 63 answerable training questions, PolicyQA 3,809: 25 balances them without
# drowning the policies (chosen by cross-validation over the article's questions: 6, 12, 25, 50).
ARTICLE_WEIGHT = 25.0
# Ranking weights' L2, from 1e-2 / 1e-3 / 3e-4 / 1e-4: article CV hit@1 0.556 / 0.603 / 0.619 / 0.603,
# PolicyQA out-of-fold hit@1 0.286 / 0.283 / 0.283 / 0.287.
L2 = 3e-4
ADAPTER_L2 = 0.01  # chosen by five-fold cross-validation by policy (0.1, 0.03, 0.01, 0.001)
ADAPTER_FOLDS = 5
ARTICLE_FOLDS = 5
TEMPERATURE = 20.0  # cosine similarities are in [-1, 1]; the softmax needs a sharper scale
DIM = 384
FOLDS_FILE = HERE / "results" / "adapter-folds.npz"
SAMPLE_POLICIES = HERE.parent / "tests" / "data" / "policyqa-dev-sample.json"
# More questions about the bundled article than its 21 dev ones, written for fitting only (the
# held-out set in tests/data/ is never fitted on).
ARTICLE_TRAINING = HERE / "article-train.jsonl"
# A third kind of text, short and plainly worded, with its own training questions: an employee
# handbook we wrote (tests/data/library is its held-out counterpart, never fitted on).
HANDBOOK = HERE / "handbook"
HANDBOOK_TRAINING = HERE / "handbook-train.jsonl"


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


def _fit_weights(items: list[tuple[Array, Array, float]]) -> Array:
    w0 = np.zeros(len(WINDOW_FEATURES))
    w0[0] = 1.0
    return np.asarray(
        minimize(lambda w: _softmax_loss(w, items, L2), w0, jac=True, method="L-BFGS-B").x
    )


def _hits(
    weights: Array, items: list[tuple[Array, Array]], mean: bool = True
) -> tuple[float, float]:
    """hit@1 and hit@3 of the ranking alone (shares, or counts when not `mean`)."""
    top = [np.argsort(-(x @ weights))[:3] for x, _ in items]
    one = sum(float(y[t[0]]) for (_, y), t in zip(items, top, strict=True))
    three = sum(float(y[t].any()) for (_, y), t in zip(items, top, strict=True))
    return (one / len(items), three / len(items)) if mean else (one, three)


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


def _sentence_labels(index: Index, pair_labels: Array) -> Array:
    """Sentences that contain a gold phrase; else those of the windows that do."""
    pairs = index.candidate_pairs
    labels = np.zeros(len(index), dtype=bool)
    single = pairs[:, 0] == pairs[:, 1]
    labels[pairs[single & pair_labels, 0]] = True
    if not labels.any():
        for a, b in pairs[pair_labels]:
            labels[a : b + 1] = True
    return labels


@dataclass(frozen=True)
class Asked:
    """A training question asked of one index; `labels` marks the candidate pairs that contain
    a gold phrase (None: it must be refused there)."""

    index: Index
    question: Question
    vectors: Array
    labels: Array | None
    weight: float


@dataclass(frozen=True)
class Prepared:
    """A training question's signals and candidate features, computed with its fold's adapter."""

    index: Index
    given: Signals
    x: Array
    labels: Array | None
    weight: float


class TrainingSets(NamedTuple):
    article: EvalSet  # dev and our own training questions about the bundled article
    handbook: EvalSet  # our handbook and its training questions
    every_policy: list[EvalSet]  # PolicyQA dev, every policy
    policies: list[EvalSet]  # the ones fitted on (the test suite's sample left out)
    offtopic: list[Question]


def read_training_sets(shared: Path, tmp: Path) -> TrainingSets:
    article = read_eval_file(shared / "eval/kaspersky-dev.jsonl", None, tmp)[0]
    article.questions += read_eval_file(ARTICLE_TRAINING, None, tmp)[0].questions
    every_policy = read_eval_file(shared / "eval/policyqa/dev.json", None, tmp)
    # The policies of the test suite's sample stay out of every fit, so that test measures
    # policies the adapter never saw.
    sample = json.loads(SAMPLE_POLICIES.read_text(encoding="utf-8"))
    kept_out = {a["title"] for a in sample["data"]}
    offtopic = [
        Question(line.strip(), None)
        for line in (HERE / "offtopic-questions.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    policies = [s for s in every_policy if s.name not in kept_out]
    handbook = read_eval_file(HANDBOOK_TRAINING, HANDBOOK, tmp)[0]
    return TrainingSets(article, handbook, every_policy, policies, offtopic)


def training_groups(sets: TrainingSets) -> list[tuple[Path | None, list[Question], float]]:
    """(knowledge dir, questions, weight): each corpus's own questions, and as questions it must
    refuse, off-topic ones and the other corpus's (asked there, they are unanswerable)."""
    rng = random.Random(0)
    article = sets.article
    policy_questions = [q for s in sets.policies for q in s.questions]
    groups = [(article.knowledge_dir, article.questions, ARTICLE_WEIGHT)]
    groups.append(
        (
            article.knowledge_dir,
            [Question(q.text, None) for q in rng.sample(policy_questions, 300)],
            1.0,
        )
    )
    groups.append((article.knowledge_dir, sets.offtopic, 3.0))
    article_answerable = [q for q in article.questions if q.gold]
    for s in sets.policies:
        groups.append((s.knowledge_dir, s.questions, 1.0))
        crossed = [Question(q.text, None) for q in rng.sample(article_answerable, 15)]
        groups.append((s.knowledge_dir, crossed + rng.sample(sets.offtopic, 10), 1.0))
    handbook = sets.handbook
    groups.append((handbook.knowledge_dir, handbook.questions, ARTICLE_WEIGHT))
    elsewhere = [q for q in article.questions + random.Random(1).sample(policy_questions, 100)]
    groups.append((handbook.knowledge_dir, [Question(q.text, None) for q in elsewhere], 1.0))
    groups.append((handbook.knowledge_dir, sets.offtopic, 3.0))
    groups.append(
        (article.knowledge_dir, [Question(q.text, None) for q in handbook.questions], 1.0)
    )
    return groups


def ask_all(
    groups: list[tuple[Path | None, list[Question], float]], embedder: Embedder
) -> tuple[dict[Path | None, Assistant], list[Asked]]:
    """Index every knowledge folder once and embed every question; label its candidates."""
    loaded: dict[Path | None, Assistant] = {}
    asked = []
    for folder, questions, weight in groups:
        assistant = loaded.setdefault(folder, Assistant.load(folder, embedder=embedder))
        index = assistant.index
        texts = [
            fold(
                index.documents[int(index.doc_of[a])].text[
                    index.passage_starts[a] : index.passage_ends[b]
                ]
            )
            for a, b in index.candidate_pairs
        ]
        for q in questions:
            v = question_vectors(index, embedder, q.text)
            labels = (
                None
                if q.gold is None
                else np.array([any(fold(g) in t for g in q.gold) for t in texts])
            )
            asked.append(Asked(index, q, v, labels, weight))
    return loaded, asked


def fit_adapters(asked: list[Asked], fold_of: dict[int, int]) -> dict[int | None, Adapter]:
    """One adapter per fold of policies, fitted without it (for the ranker's training features),
    and one on all of them (key None, the shipped one). `fold_of`: id(index) -> fold."""
    batches: dict[int, tuple[Array, list[Array], list[Array]]] = {}
    for a in asked:
        if id(a.index) in fold_of and a.labels is not None and a.labels.any():
            entry = batches.setdefault(id(a.index), (a.index.vectors, [], []))
            entry[1].append(a.vectors[0])
            entry[2].append(_sentence_labels(a.index, a.labels))

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
                answers = np.flatnonzero(_sentence_labels(index, a.labels))
                known = seen.setdefault(a.question.text, (a.vectors[0], [], []))
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


def prepare(
    asked: list[Asked], adapters: dict[int | None, Adapter], fold_of: dict[int, int]
) -> list[Prepared]:
    """Every question's candidate features over all of its index's passages, a policy's with
    the adapter that did not see it."""
    prepared = []
    for a in asked:
        adapter = adapters[fold_of.get(id(a.index))]
        given = signals(a.index, a.question.text, a.vectors, adapter, every_passage=True)
        x = with_familiarity(
            candidate_features(
                a.index, a.index.candidate_pairs, features(a.index, a.question.text, given)
            ),
            given.familiarity,
        )
        prepared.append(Prepared(a.index, given, x, a.labels, a.weight))
    print(f"prepared {len(prepared)} questions")
    return prepared


def _ranking_items(prepared: list[Prepared]) -> list[tuple[int, tuple[Array, Array, float]]]:
    """(row in `prepared`, (features, labels, weight)) of the questions that have an answer."""
    return [
        (n, (p.x, p.labels.astype(float), p.weight))
        for n, p in enumerate(prepared)
        if p.labels is not None and p.labels.any()
    ]


def cross_validation(
    prepared: list[Prepared], rows: Array
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Ranking (hit@1, hit@3, no refusal) and refusal (answered, refused) of one of our own
    corpora's questions (`rows`), each fold ranked and refused by weights fitted without it.

    Its questions are too few to set aside a test set for fitting decisions, so they are
    cross-validated: five folds of its own questions, answerable or not. Each fold is ranked
    with weights fitted without it (PolicyQA always in), and refused by a refusal fitted without
    it on features computed with those weights, so nothing it asks leaks in."""
    items = _ranking_items(prepared)
    ry = np.array([0.0 if p.labels is None else 1.0 for p in prepared])
    rw = np.array([p.weight for p in prepared])
    question_fold = np.full(len(prepared), -1)
    question_fold[rows] = np.arange(rows.sum()) % ARTICLE_FOLDS
    ranked, held_p = np.zeros(2), np.zeros(len(prepared))
    for k in range(ARTICLE_FOLDS):
        kept = question_fold != k
        fold_weights = _fit_weights([item for n, item in items if kept[n]])
        ranked += _hits(fold_weights, [(x, y) for n, (x, y, _) in items if not kept[n]], False)
        fold_rx = _refusal_rows(prepared, fold_weights)
        held_p[~kept] = _answered(_fit_refusal(fold_rx[kept], ry[kept], rw[kept]), fold_rx[~kept])
    on_article = sum(1 for n, _ in items if rows[n])
    art_p, art_y = held_p[rows], ry[rows]
    return (
        (ranked[0] / on_article, ranked[1] / on_article),
        (float(np.mean(art_p[art_y == 1] >= 0.5)), float(np.mean(art_p[art_y == 0] < 0.5))),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    args = parser.parse_args()
    sets = read_training_sets(args.shared, Path(tempfile.mkdtemp(prefix="fit-ranker-")))
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
    ry = np.array([0.0 if p.labels is None else 1.0 for p in prepared])
    refusal = _fit_refusal(rx, ry, np.array([p.weight for p in prepared]))
    p = _answered(refusal, rx)
    print(
        f"refusal fit: answerable answered {np.mean(p[ry == 1] >= 0.5):.3f}, "
        f"unanswerable refused {np.mean(p[ry == 0] < 0.5):.3f}"
    )
    for name, corpus in (("Article", sets.article), ("Handbook", sets.handbook)):
        own = {id(q) for q in corpus.questions}
        rows = np.array([id(a.question) in own for a in asked])
        (hit1, hit3), (answered, refused) = cross_validation(prepared, rows)
        print(
            f"{name}, {rows.sum()} questions cross-validated in {ARTICLE_FOLDS} folds: "
            f"ranking ({sum(1 for n, _ in _ranking_items(prepared) if rows[n])} answerable; "
            f"no refusal, no diversity) hit@1 {hit1:.3f}, hit@3 {hit3:.3f}; "
            f"answerable answered {answered:.3f}, unanswerable refused {refused:.3f}"
        )
    write_fitted(weights, refusal, adapters, fold_of_title)
    for name, value in zip(WINDOW_FEATURES, weights, strict=True):
        print(f"  {name:32s} {value:+.3f}")
    for name, value in zip(REFUSAL_FEATURES, refusal, strict=False):
        print(f"  refusal {name:24s} {value:+.3f}")


if __name__ == "__main__":
    main()
