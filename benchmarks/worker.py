"""Serving processes for the warm measurements; each prints one JSON object.

`python -m benchmarks.worker latency ours|baseline KNOWLEDGE CACHE BASELINE.npz` loads one system
and times its answers (one process per system: torch's spinning OpenMP workers would otherwise
slow the other system down); `both` alternates the two in one process.
`python -m benchmarks.worker memory ours|baseline ...` loads one system alone, answers a few
questions and reports its peak resident memory. `graph` and `exact` are ours with the dense search
through the graph, or the exact scan, at any size (assistant/ann.py's threshold moved past the
corpus); `graph+exact` alternates the two in one process, question by question, so both see the
same load on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.corpora import questions

Answer = Callable[[str], object]


def _ours(knowledge: Path, cache: Path, threshold: int | None = None) -> Answer:
    """Ours; with `threshold`, assistant/ann.py's in its place (each its own snapshot: the
    threshold is in its key)."""
    from assistant import Assistant, ann

    default = ann.THRESHOLD
    ann.THRESHOLD = default if threshold is None else threshold
    try:
        return Assistant.load(knowledge, cache_dir=cache).answer
    finally:  # read only while loading: a system loaded next gets its own
        ann.THRESHOLD = default


def _baseline(data: Path) -> Answer:
    from benchmarks.baseline import SimpleSearch

    return SimpleSearch.load(data).answer


def _timed(answer: Answer, question: str) -> float:
    start = time.perf_counter()
    answer(question)
    return (time.perf_counter() - start) * 1000


def latency(
    systems: dict[str, Answer], count: int, budget: float, warmup: int = 5
) -> dict[str, list[float]]:
    asked = questions()
    for question in asked[:warmup]:
        for answer in systems.values():
            answer(question)
    times: dict[str, list[float]] = {name: [] for name in systems}
    began = time.perf_counter()
    for turn, question in enumerate(asked[warmup : warmup + count]):
        names = list(systems) if turn % 2 == 0 else list(reversed(systems))
        for name in names:
            times[name].append(_timed(systems[name], question))
        if time.perf_counter() - began > budget and turn >= 30:
            break
    return times


def _peak_rss_mb() -> float:
    """This process's own high-water mark. Not ru_maxrss: Linux carries that over fork and exec,
    so a worker started by a big parent reports the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["latency", "memory"])
    parser.add_argument(
        "system", choices=["both", "ours", "graph", "exact", "baseline", "graph+exact"]
    )
    parser.add_argument("knowledge", type=Path)
    parser.add_argument("cache", type=Path)
    parser.add_argument("baseline", type=Path)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--budget", type=float, default=90.0, help="seconds; stop early after it")
    args = parser.parse_args()

    loaders = {
        "ours": lambda: _ours(args.knowledge, args.cache),
        "graph": lambda: _ours(args.knowledge, args.cache, threshold=1),
        "exact": lambda: _ours(args.knowledge, args.cache, threshold=10**12),
        "baseline": lambda: _baseline(args.baseline),
    }
    names = {"both": ["ours", "baseline"], "graph+exact": ["graph", "exact"]}.get(
        args.system, [args.system]
    )
    systems, load_s = {}, {}
    for name in names:
        start = time.perf_counter()
        systems[name] = loaders[name]()
        load_s[name] = time.perf_counter() - start
    count = args.questions if args.mode == "latency" else 20
    times = latency(systems, count, args.budget)
    peak_mb = _peak_rss_mb()
    print(json.dumps({"load_s": load_s, "latencies_ms": times, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    main()
