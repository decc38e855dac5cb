"""`python -m benchmarks`: policy-qa against the simple alternative, as ratios from one run.

Sizes above 10,000 passages are opt-in (`--sizes 1000,10000,100000,1000000`); their warm caches
are prepared once into benchmarks/data/ and reused by later runs (a million passages: about 10
minutes and 6 GB of disk the first time).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import coldstart, indexing, nearest, pdf_indexing, report, serving
from benchmarks.prepare import Prepared, prepare

FIGURES = (
    "latency", "memory", "nearest", "indexing", "reindex", "pdf", "coldstart", "slack", "scale",
)  # fmt: skip
# slack: see --only; scale (1, 2, 4 Slack workers behind nginx) needs redis-server and nginx;
# nearest measures only sizes from 50,000 passages (nearest.SMALLEST; says so when there are none)
DEFAULT = ("latency", "memory", "nearest", "indexing", "reindex", "pdf", "coldstart", "scale")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few repeats: a smoke run"
    )
    parser.add_argument(
        "--sizes", help="corpus sizes in passages, comma-separated (default 1000,10000)"
    )
    parser.add_argument(
        "--only", help=f"comma-separated subset of {','.join(FIGURES)} (default: all but slack)"
    )
    parser.add_argument(
        "--questions", type=int, help="questions per latency measurement (default 200)"
    )
    parser.add_argument(
        "--sample", type=int, help="passages for indexing throughput (default 2000)"
    )
    parser.add_argument(
        "--ref", help="measure the core and adapters at this git revision, not the working tree"
    )
    return parser


def _measure_at(ref: str) -> None:
    """Re-run these benchmarks on `ref`'s assistant/ and adapters/, exported beside the data, so
    a half-edited working tree of another developer neither breaks nor blurs the figures."""
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    rev = subprocess.run([*git, "rev-parse", "--short", ref], capture_output=True, text=True)
    if rev.returncode != 0:
        sys.exit(f"python -m benchmarks: unknown git revision {ref!r}")
    target = root / "benchmarks" / "data" / "snapshots" / rev.stdout.strip()
    if not (target / "assistant").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            [*git, "archive", rev.stdout.strip(), "assistant", "adapters"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        (target / "benchmarks").symlink_to(root / "benchmarks")
    env = os.environ | {"PYTHONPATH": str(target), "POLICY_QA_BENCH_REF": rev.stdout.strip()}
    os.chdir(target)
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *sys.argv[1:]], env)


def main() -> int:
    args = _parser().parse_args()
    if args.ref and not os.environ.get("POLICY_QA_BENCH_REF"):
        _measure_at(args.ref)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    sizes = [int(s) for s in (args.sizes or ("1000" if args.quick else "1000,10000")).split(",")]
    only = args.only.split(",") if args.only else list(DEFAULT)
    if unknown := set(only) - set(FIGURES):
        _parser().error(f"unknown figures: {', '.join(sorted(unknown))}")
    questions = args.questions or (40 if args.quick else 200)
    sample = args.sample or (400 if args.quick else 2000)
    runs = 3 if args.quick else 7

    facts = report.machine()
    print(
        f"policy-qa benchmarks · {facts['nproc']} CPUs ({facts['cpu']}) · load average "
        f"{facts['load_average'][0]:.1f} · commit {facts['commit']}"
        f"{_measured(facts)}",
        flush=True,
    )
    prepared: list[Prepared] = []
    if {"latency", "memory", "nearest", "coldstart", "reindex"} & set(only):
        for size in sizes:
            start = time.perf_counter()
            prepared.append(prepare(size))
            print(
                f"prepared {size:,} passages in {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    smallest = min(prepared, key=lambda p: p.passages) if prepared else prepare(1000)
    steps: dict[str, Callable[[], report.Section]] = {
        "latency": lambda: serving.latency(prepared, questions),
        "memory": lambda: serving.memory(prepared),
        "nearest": lambda: nearest.measure(prepared, questions),
        "indexing": lambda: indexing.throughput(sample, 1 if args.quick else 2),
        "reindex": lambda: indexing.reindex(smallest.corpus),
        "pdf": lambda: pdf_indexing.measure(100 if args.quick else 500, 1 if args.quick else 2),
        "coldstart": lambda: coldstart.cold_start(prepared, runs),
        "slack": lambda: _slack(args.quick),
        "scale": lambda: _scale(args.quick),
    }
    sections = []
    for name in FIGURES:
        if name in only:
            start = time.perf_counter()
            sections.append(steps[name]())
            print(
                f"measured {name} in {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    print()
    print(report.render(sections))
    facts["load_average_after"] = os.getloadavg()
    path = report.save(sections, vars(args) | {"sizes": sizes, "only": only}, facts)
    print(f"\nload average at the end {facts['load_average_after'][0]:.1f}; results: {path}")
    return 0 if all(r.met is not False for s in sections for r in s.rows) else 1


def _measured(facts: dict[str, object]) -> str:
    if ref := os.environ.get("POLICY_QA_BENCH_REF"):
        facts["core_ref"] = ref
        return f" · core and adapters at {ref}"
    return " + uncommitted core changes" if facts["dirty_core"] else ""


def _slack(quick: bool) -> report.Section:
    from benchmarks import slack_load

    return slack_load.measure(quick)


def _scale(quick: bool) -> report.Section:
    from benchmarks import slack_scale

    return slack_scale.measure(quick)


if __name__ == "__main__":
    sys.exit(main())
