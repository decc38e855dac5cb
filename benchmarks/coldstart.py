"""Cold start: process start to the first byte of the answer, with warm caches on disk."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import corpora
from benchmarks.corpora import questions
from benchmarks.prepare import Prepared
from benchmarks.report import Row, Section

TARGET_S = 2.0
PUBLISHED_TARGET_S, PUBLISHED_TARGET_SIZE = 3.0, 100_000
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


def _publish(p: Prepared, env: dict[str, str]) -> Path:
    """The prepared corpus published by `policy-qa index --into` (once per version of the core)."""
    into = corpora.DATA / "published" / f"{p.cache.name}-p{p.passages}"
    if not any(into.glob("*/manifest.json")):
        into.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [str(POLICY_QA), "index", "--into", str(into)], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"policy-qa index --into {into} failed:\n{done.stderr[-3000:]}")
    return into


def _embeds_nothing(command: list[str], env: dict[str, str], empty: Path) -> bool:
    """Whether a worker on a published index answers with no passage embedded: its log says it
    loaded the published version and never that it is embedding, and the empty cache it was
    given holds no file afterwards (whatever it embedded would have been written there)."""
    done = subprocess.run(
        [*command[:1], "-v", *command[1:]], env=env, capture_output=True, text=True
    )
    loaded = "Loaded the index version" in done.stderr and "Embedding" not in done.stderr
    return done.returncode == 0 and loaded and not any(p.is_file() for p in empty.rglob("*"))


def published_start(sizes: list[Prepared], runs: int) -> list[Row]:
    """A worker (`POLICY_QA_INDEX_DIR=DIR policy-qa ask`) starting on a published index of each
    size from 100,000 passages: process start to the answer's first byte."""
    title = "Cold start: `policy-qa ask` to answer printed (warm cache, median)"
    rows = []
    question = questions()[0]
    for p in sizes:
        if p.passages < PUBLISHED_TARGET_SIZE:
            continue
        env = os.environ | {"POLICY_QA_KNOWLEDGE": str(p.corpus), "POLICY_QA_CACHE": str(p.cache)}
        into = _publish(p, env)
        with tempfile.TemporaryDirectory() as empty:
            # The worker gets an empty cache of its own: it has only the published index.
            worker = env | {"POLICY_QA_INDEX_DIR": str(into), "POLICY_QA_CACHE": empty}
            command = [str(POLICY_QA), "ask", question]
            clean = _embeds_nothing(command, worker, Path(empty))
            time_to_answer(command, worker)  # page cache warm-up, not timed
            times = [time_to_answer(command, worker) for _ in range(runs)]
        median = statistics.median(times)
        at_target = p.passages == PUBLISHED_TARGET_SIZE
        rows.append(
            Row(
                title,
                f"{p.passages:,} passages, worker on a published index",
                median,
                None,
                "s",
                f"<= {PUBLISHED_TARGET_S:.0f} s, embeds 0" if at_target else "embeds 0",
                (median <= PUBLISHED_TARGET_S or not at_target) and clean,
                f"({'embedded nothing' if clean else 'EMBEDDED'}; runs: "
                f"{', '.join(f'{t:.2f}' for t in times)})",
            )
        )
    return rows


def cold_start(sizes: list[Prepared], runs: int) -> Section:
    section = Section(
        "Cold start: `policy-qa ask` to answer printed (warm cache, median)",
        "script: import sentence-transformers + rank_bm25, load model and saved embeddings, answer",
    )
    question = questions()[0]
    for p in sizes:
        if p.baseline is None:
            continue  # past 100,000 passages: the published worker below only
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
    section.rows += published_start(sizes, runs)
    return section
