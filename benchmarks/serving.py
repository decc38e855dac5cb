"""Warm answer latency and peak memory per corpus size, each system in a fresh subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks.prepare import Prepared
from benchmarks.report import Row, Section, percentiles

ALTERNATIVE = "rank_bm25 BM25Okapi + sentence-transformers encode, cosine, summed min-max scores"
LATENCY_TARGETS = {10_000: 25.0, 100_000: 60.0}  # p50, ms
RSS_TARGET_MB, RSS_TARGET_SIZE = 800.0, 100_000


def _worker(mode: str, system: str, prepared: Prepared, questions: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.worker",
        mode,
        system,
        str(prepared.corpus),
        str(prepared.cache),
        str(prepared.baseline),
        "--questions",
        str(questions),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def latency(sizes: list[Prepared], questions: int) -> Section:
    section = Section("Warm answer latency (same questions, one process per system)", ALTERNATIVE)
    for p in sizes:
        # One process each: torch's OpenMP workers spin after every encode, and in a shared
        # process they took the cores from our ONNX model (28.8 vs 13 ms at 10k, measured).
        result = {s: _worker("latency", s, p, questions) for s in ("ours", "baseline")}
        ours = result["ours"]["latencies_ms"]["ours"]
        alt = result["baseline"]["latencies_ms"]["baseline"]
        (o50, o99), (a50, a99) = percentiles(ours, 50, 99), percentiles(alt, 50, 99)
        goal = LATENCY_TARGETS.get(p.passages)
        where = f"{p.passages:,} passages"
        section.rows += [
            Row(
                section.title,
                f"{where}, p50",
                o50,
                a50,
                "ms",
                f"<= {goal:.0f} ms" if goal else "",
                o50 <= goal if goal else None,
            ),
            Row(
                section.title,
                f"{where}, p99",
                o99,
                a99,
                "ms",
                "< 3x p50",
                o99 < 3 * o50,
                f"({o99 / o50:.1f}x p50, n={len(ours)})",
            ),
        ]
        section.raw[str(p.passages)] = result
    return section


def memory(sizes: list[Prepared]) -> Section:
    section = Section("Peak RSS of a serving process (warm cache, load + 20 answers)", ALTERNATIVE)
    for p in sizes:
        ours, alt = _worker("memory", "ours", p, 20), _worker("memory", "baseline", p, 20)
        at_target = p.passages == RSS_TARGET_SIZE
        section.rows.append(
            Row(
                section.title,
                f"{p.passages:,} passages",
                ours["peak_rss_mb"],
                alt["peak_rss_mb"],
                "MB",
                f"<= {RSS_TARGET_MB:.0f} MB" if at_target else "",
                ours["peak_rss_mb"] <= RSS_TARGET_MB if at_target else None,
                f"(load {ours['load_s']['ours']:.1f} s vs {alt['load_s']['baseline']:.1f} s)",
            )
        )
        section.raw[str(p.passages)] = {"ours": ours, "baseline": alt}
    return section
