"""Answers with approximate dense search on and off, on the PolicyQA-based benchmark corpus.

`python -m benchmarks.ann_quality [--size 100000] [--questions N]`: the PolicyQA dev questions
(`benchmarks/policyqa/dev.json`; each distinct question once, its gold phrases those of every
policy that asks it, since the generated corpus mixes every policy's sentences) asked of the
generated corpus of that size, once with the exact scan (assistant.ann.THRESHOLD raised past the
corpus) and once with the nearest-neighbour graph, each in a process of its own; hit@1 and hit@3
counted as `policy-qa eval` counts them. Also how often the two give the same quotes (by file and
offsets, and by text). Prints a table and writes the figures as JSON beside the benchmark results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.corpora import HERE
from benchmarks.report import RESULTS

DEV = HERE / "policyqa" / "dev.json"
TARGET = 0.01  # hit@3 with the graph at most this much (relative) under the exact scan's


def questions() -> list[tuple[str, list[str]]]:
    """Each distinct PolicyQA dev question with the gold phrases of every policy that asks it."""
    data = json.loads(DEV.read_text(encoding="utf-8"))
    gold: dict[str, list[str]] = {}
    for policy in data["data"]:
        for paragraph in policy["paragraphs"]:
            for qa in paragraph["qas"]:
                text = " ".join(qa["question"].split())
                gold.setdefault(text, []).extend(a["text"] for a in qa["answers"])
    return [(q, sorted(set(g))) for q, g in gold.items() if g]


def _answer_all(size: int, exact: bool, count: int) -> None:
    """In a process of its own: load the prepared corpus and print one JSON line per question."""
    from assistant import ann
    from assistant.evaluation import Question, Tally
    from assistant.text import fold

    if exact:
        ann.THRESHOLD = 10**12
    from assistant import Assistant
    from benchmarks.prepare import prepare

    prepared = prepare(size)
    assistant = Assistant.load(prepared.corpus, cache_dir=prepared.cache)
    assert (assistant.index.nearest is None) == exact, "the threshold did not take"
    asked = questions()[:count]
    unfindable = 0
    if exact:  # the same documents either way: counted once
        corpus = fold("\n".join(d.text for d in assistant.documents))
        unfindable = sum(not any(fold(g) in corpus for g in gold) for _, gold in asked)
    tally = Tally()
    answers = []
    began = time.perf_counter()
    for text, gold in asked:
        answer = assistant.answer(text)
        quotes = [c.quote for c in answer.citations]
        tally.add(Question(text, tuple(gold)), quotes, answer.answered, answer.sure)
        answers.append([[c.path, c.start, c.end, c.quote] for c in answer.citations])
    seconds = time.perf_counter() - began
    figures = tally.figures() | {"gold_not_in_documents": unfindable}
    print(json.dumps({"figures": figures, "answers": answers, "seconds": seconds}))


def _run(size: int, exact: bool, count: int) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.ann_quality", "--size", str(size)]
    command += ["--questions", str(count), "--worker", "exact" if exact else "approximate"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _same(exact: Any, approximate: Any, part: slice) -> tuple[int, int]:
    """Questions whose first quote, and whose quotes, are the same in both (compared on `part` of
    each [path, start, end, quote])."""
    pairs = [
        ([c[part] for c in x], [c[part] for c in y])
        for x, y in zip(exact, approximate, strict=True)
    ]
    return sum(x[:1] == y[:1] for x, y in pairs), sum(x == y for x, y in pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="passages (default 100,000)")
    parser.add_argument("--questions", type=int, default=10_000, help="at most this many")
    parser.add_argument("--worker", choices=["exact", "approximate"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _answer_all(args.size, args.worker == "exact", args.questions)
        return 0
    exact = _run(args.size, True, args.questions)
    approximate = _run(args.size, False, args.questions)
    e, a = exact["figures"], approximate["figures"]
    assert isinstance(e, dict) and isinstance(a, dict)
    by_place = _same(exact["answers"], approximate["answers"], slice(0, 3))
    by_text = _same(exact["answers"], approximate["answers"], slice(3, 4))
    n = int(e["in_scope"])
    print(f"{args.size:,} passages, {n} PolicyQA dev questions (gold in the corpus: "
          f"{n - int(e['gold_not_in_documents'])})")  # fmt: skip
    print(f"{'':24}{'exact scan':>12}{'graph':>12}")
    for name in ("hit@1", "hit@3", "answered", "answered sure"):
        print(f"{name:24}{e[name]:>12.4f}{a[name]:>12.4f}")
    print(f"{'seconds answering':24}{exact['seconds']:>12.1f}{approximate['seconds']:>12.1f}")
    # The corpus repeats each sentence about 70 times: the same words may be quoted from another
    # copy, so the quotes are compared by their text as well as by file and offsets.
    for how, (first, every) in (("file and offsets", by_place), ("text", by_text)):
        print(f"same first quote ({how}): {first} of {n}; all quotes the same: {every}")
    met = float(a["hit@3"]) >= float(e["hit@3"]) * (1 - TARGET)
    print(f"hit@3 within {TARGET:.0%} of the exact scan: {'ok' if met else 'MISS'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"ann-quality-{args.size}-{stamp}.json"
    path.write_text(json.dumps({"size": args.size, "exact": e, "approximate": a,
                                "same_by_place": by_place, "same_by_text": by_text}, indent=1))  # fmt: skip
    print(f"results: {Path(path)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
