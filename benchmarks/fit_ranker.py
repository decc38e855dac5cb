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
each fold of PolicyQA policies; benchmarks/leave_one_corpus_out.py): ranked and refused by
weights fitted without its documents and without its questions, next to plain dense, plain BM25
and their fusion, the prior the learned score has to beat (assistant/features.py, plain_fusion).
The fit's pieces that the validation refits are in benchmarks/ranker_fit.py.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core import ANSWER_THRESHOLD
from assistant.embedding import default_embedder
from assistant.features import (
    WINDOW_FEATURES,
    candidate_features,
    features,
    signals,
    with_familiarity,
)
from assistant.question import ADAPTER_FILE, Adapter
from assistant.refusal import REFUSAL_FEATURES
from benchmarks.adapter_fit import ADAPTER_FOLDS, fit_adapters
from benchmarks.leave_one_corpus_out import corpora, corpus_groups, leave_one_corpus_out, summary
from benchmarks.ranker_fit import Prepared, _answerable, _hits, fit
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
FOLDS_FILE = HERE / "results" / "adapter-folds.npz"

Array = np.ndarray


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

    fitted = fit(prepared)
    weights, refusal, answered = fitted.weights, fitted.refusal, fitted.answered
    policy_items = [
        (p.x, p.labels) for p in prepared if id(p.index) in fold_of and p.labels is not None
    ]
    print(
        "PolicyQA ranking with out-of-fold adapters (no refusal, no diversity): "
        "hit@1 {:.3f}, hit@3 {:.3f}".format(*_hits(weights, policy_items))
    )
    ry = _answerable(prepared)
    print(
        f"refusal fit: answerable answered {np.mean(answered[ry == 1] >= ANSWER_THRESHOLD):.3f}, "
        f"unanswerable refused {np.mean(answered[ry == 0] < ANSWER_THRESHOLD):.3f}"
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
