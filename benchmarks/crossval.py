"""PolicyQA dev figures that the adapter has not seen: each policy answered with the adapter fitted
without its fold (written by benchmarks/fit_ranker.py), summed over the folds.

    .venv/bin/python -m benchmarks.crossval [--policyqa-dev FILE]

`policy-qa eval benchmarks/policyqa/dev.json` uses the shipped adapter, fitted on every one of
those policies, so its figures are optimistic; these are the ones to expect on new policies. The
ranking and refusal weights (82 + 15 numbers) are the shipped ones, fitted on out-of-fold features.
It also prints how much the ratio to plain dense varies from policy to policy (a bootstrap).
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
from benchmarks.fit_ranker import FOLDS_FILE
from benchmarks.training_data import POLICYQA_DEV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--policyqa-dev", type=Path, default=POLICYQA_DEV, help="default: %(default)s"
    )
    args = parser.parse_args()
    source = args.policyqa_dev
    print(f"PolicyQA dev, each policy with the adapter fitted without it: {source}", flush=True)
    data = json.loads(source.read_text(encoding="utf-8"))
    if not FOLDS_FILE.exists():
        raise SystemExit(f"{FOLDS_FILE} is missing: run `python -m benchmarks.fit_ranker` first.")
    saved = np.load(FOLDS_FILE)
    fold_of = dict(zip(saved["titles"].tolist(), saved["folds"].tolist(), strict=True))
    shipped = shipped_ranker()
    per_policy: list[dict[str, Tally]] = []
    with tempfile.TemporaryDirectory(prefix="policy-qa-cv-") as tmp:
        for k in sorted(set(fold_of.values())):
            ranker = replace(shipped, adapter=load_adapter(FOLDS_FILE, suffix=str(k)))
            articles = [a for a in data["data"] if fold_of[a["title"]] == k]
            for n, article in enumerate(articles):
                part = Path(tmp) / f"fold-{k}-{n}.json"
                part.write_text(json.dumps({"data": [article]}), encoding="utf-8")
                per_policy.append(evaluate(part, ranker=ranker))
            print(f"fold {k}: {len(articles)} policies done", flush=True)
    totals: dict[str, Tally] = {}
    for tallies in per_policy:
        for name, tally in tallies.items():
            totals.setdefault(name, Tally()).merge(tally)
    print(format_table(source, totals))
    print(_ratio_intervals(per_policy))


def _ratio_intervals(per_policy: list[dict[str, Tally]], draws: int = 2000) -> str:
    """How far the ratio to plain dense would move on other policies: the policies resampled
    with replacement (a new policy is the unit that varies, not a new question)."""
    counts = np.array(
        [
            [t["policy-qa"].hit1, t["policy-qa"].hit3, t["plain dense"].hit1, t["plain dense"].hit3]
            for t in per_policy
        ],
        dtype=float,
    )
    rng = np.random.default_rng(0)
    sums = counts[rng.integers(0, len(counts), (draws, len(counts)))].sum(axis=1)
    lines = [f"ratio to plain dense, 90% interval over {draws} resamplings of the policies:"]
    for label, mine, theirs in (("hit@1", 0, 2), ("hit@3", 1, 3)):
        low, high = np.percentile(sums[:, mine] / sums[:, theirs], [5, 95])
        lines.append(f"  {label}: {low:.2f}x .. {high:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
