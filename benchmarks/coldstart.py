"""Cold start: process start to the first byte of the answer, with warm caches on disk."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpora import questions
from benchmarks.prepare import Prepared
from benchmarks.report import Row, Section

TARGET_S = 2.0
POLICY_QA = Path(sys.executable).with_name("policy-qa")


def time_to_answer(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning `command` to the first byte on its standard output."""
    start = time.perf_counter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.read(1)
        elapsed = time.perf_counter() - start
        proc.stdout.read()
    if proc.returncode != 0 or not first:
        raise RuntimeError(f"{' '.join(command)} exited with {proc.returncode} and no answer")
    return elapsed


def cold_start(sizes: list[Prepared], runs: int) -> Section:
    section = Section(
        "Cold start: `policy-qa ask` to answer printed (warm cache, median)",
        "script: import sentence-transformers + rank_bm25, load model and saved embeddings, answer",
    )
    question = questions()[0]
    for p in sizes:
        env = os.environ | {"POLICY_QA_KNOWLEDGE": str(p.corpus), "POLICY_QA_CACHE": str(p.cache)}
        ours_cmd = [str(POLICY_QA), "ask", question]
        alt_cmd = [sys.executable, "-m", "benchmarks.baseline", str(p.baseline), question]
        time_to_answer(ours_cmd, env), time_to_answer(alt_cmd, env)  # page cache warm-up, not timed
        ours, alt = [], []
        for _ in range(runs):  # alternate, so a busy moment costs both
            ours.append(time_to_answer(ours_cmd, env))
            alt.append(time_to_answer(alt_cmd, env))
        o, a = statistics.median(ours), statistics.median(alt)
        section.rows.append(
            Row(
                section.title,
                f"{p.passages:,} passages",
                o,
                a,
                "s",
                f"<= {TARGET_S:.0f} s",
                o <= TARGET_S,
                f"(runs: {', '.join(f'{t:.2f}' for t in ours)})",
            )
        )
        section.raw[str(p.passages)] = {"ours_s": ours, "baseline_s": alt}
    return section
