"""PolicyQA dev figures that the adapter has not seen: each policy answered with the adapter fitted
without its fold (written by benchmarks/fit_ranker.py), summed over the folds.

    .venv/bin/python -m benchmarks.crossval [--shared ../shared]

`policy-qa eval ../shared/eval/policyqa/dev.json` uses the shipped adapter, fitted on every one of
those policies, so its figures are optimistic; these are the ones to expect on new policies. The
ranking and refusal weights (74 + 15 numbers) are the shipped ones, fitted on out-of-fold features.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.evaluation import Tally, evaluate, format_table
from assistant.question import load_adapter
from assistant.ranking import shipped_ranker
from benchmarks.fit_ranker import FOLDS_FILE, HERE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    args = parser.parse_args()
    source = args.shared / "eval/policyqa/dev.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    if not FOLDS_FILE.exists():
        raise SystemExit(f"{FOLDS_FILE} is missing: run `python -m benchmarks.fit_ranker` first.")
    saved = np.load(FOLDS_FILE)
    fold_of = dict(zip(saved["titles"].tolist(), saved["folds"].tolist(), strict=True))
    shipped = shipped_ranker()
    totals: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="policy-qa-cv-") as tmp:
        for k in sorted(set(fold_of.values())):
            part = Path(tmp) / f"fold-{k}.json"
            articles = [a for a in data["data"] if fold_of[a["title"]] == k]
            part.write_text(json.dumps({"data": articles}), encoding="utf-8")
            ranker = replace(shipped, adapter=load_adapter(FOLDS_FILE, suffix=str(k)))
            for name, tally in evaluate(part, ranker=ranker).items():
                totals.setdefault(name, Tally()).merge(tally)
            print(f"fold {k}: {len(articles)} policies done", flush=True)
    print(format_table(source, totals))


if __name__ == "__main__":
    main()
