"""`python -m benchmarks.records`: what recording costs an answer, how fast the writer writes to
SQLite and PostgreSQL, and how long `policy-qa report` takes on many recorded questions.

Questions are PolicyQA's (benchmarks/corpus/questions.txt, 568 distinct), asked with a popularity
that falls off like real traffic (Zipf), a third of them reworded (case, punctuation, a
greeting); citations point at real passages of the PolicyQA policies. PostgreSQL runs on a
throwaway server (tests/postgres_server.py) when its binaries are installed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant import Answer, Citation
from assistant.embedding import default_embedder
from assistant.records.recorder import Recorder
from assistant.records.report import build_report
from assistant.records.sql import SQLStore
from benchmarks.corpora import POLICIES, QUESTIONS

SECRET = b"benchmark-secret-0123456789"


def questions() -> list[str]:
    return [q for q in QUESTIONS.read_text(encoding="utf-8").splitlines() if q.strip()]


def citations(rng: random.Random, count: int) -> list[Citation]:
    """`count` citations of real passages: 400 characters at random places in the policies."""
    texts = {p: p.read_text(encoding="utf-8") for p in sorted(POLICIES.glob("*.txt"))}
    paths = list(texts)
    out = []
    for _ in range(count):
        path = rng.choice(paths)
        start = rng.randrange(max(len(texts[path]) - 400, 1))
        end = start + 400
        out.append(
            Citation(texts[path][start:end], str(path), start, end, "PolicyQA", "¶", None, 0.7)
        )
    return out


def reworded(rng: random.Random, question: str) -> str:
    roll = rng.random()
    if roll < 0.12:
        return question.lower()
    if roll < 0.24:
        return question.rstrip("?")
    if roll < 0.33:
        return f"Hi! {question} Thanks"
    return question


def traffic(rng: random.Random, pool: list[str], count: int, unique: bool) -> list[Answer]:
    """`count` answers: 60% answered, 10% with a caveat, 25% refused, 5% greetings. With
    `unique`, every question is one no one else asked (two pool questions joined): the most
    the report can have to embed."""
    weights = [1 / (rank + 1) for rank in range(len(pool))]  # Zipf: a few questions most asked
    quoted = citations(rng, 300)
    answers = []
    for n in range(count):
        if unique:  # pairs (i, i + 1 + n // len) differ for every n below len(pool) ** 2
            first, offset = n % len(pool), 1 + n // len(pool)
            question = f"{pool[first].rstrip('?')} and {pool[(first + offset) % len(pool)]}"
        else:
            question = reworded(rng, rng.choices(pool, weights)[0])
        roll = rng.random()
        if roll < 0.05:
            answers.append(Answer("thanks!", False, "You're welcome.", ()))
        elif roll < 0.30:
            answers.append(Answer(question, False, "The documents don't cover this.", ()))
        else:
            cited = tuple(rng.sample(quoted, 3))
            caveat = "I'm not sure the documents answer this." if roll < 0.40 else None
            answers.append(Answer(question, True, "…", cited, caveat))
    return answers


def record(recorder: Recorder, answers: list[Answer], rng: random.Random) -> list[float]:
    """Record every answer (a vote on one in seven) spread over the last 7 days; the time each
    record_answer call took on this thread."""
    took = []
    for n, answer in enumerate(answers):
        start = time.perf_counter()
        answer_id = recorder.record_answer(answer, platform="slack", user_id=f"U{n % 500}")
        took.append(time.perf_counter() - start)
        if n % 7 == 0:
            recorder.record_vote(answer_id, platform="slack", user_id="V", up=rng.random() < 0.6)
    return took


def spread_over_a_week(store: SQLStore, count: int) -> None:
    """Move the answers' times back over 7 days, as if asked through the week."""
    with store.engine.begin() as connection:
        ids = connection.exec_driver_sql("SELECT id FROM policy_qa_answers").scalars().all()
        now = datetime.now(UTC).replace(tzinfo=None)
        connection.exec_driver_sql(
            "UPDATE policy_qa_answers SET asked_at = %(at)s WHERE id = %(id)s"
            if store.engine.dialect.name == "postgresql"
            else "UPDATE policy_qa_answers SET asked_at = :at WHERE id = :id",
            [
                {"at": now - timedelta(minutes=(n * 7 * 24 * 60) // max(count, 1)), "id": i}
                for n, i in enumerate(ids)
            ],
        )


def measure(name: str, url: str, count: int, unique: bool = False) -> None:
    rng = random.Random(19)
    answers = traffic(rng, questions(), count, unique)
    recorder = Recorder(
        lambda: SQLStore.open(url), secret=SECRET, max_queued=2 * count + 10, where=name
    )
    assert recorder.flush(timeout=60)  # connected and migrated before the clock starts
    start = time.perf_counter()
    took = record(recorder, answers, rng)
    queued = time.perf_counter() - start
    assert recorder.flush(timeout=600)
    written = time.perf_counter() - start
    recorder.close()
    records = count + (count + 6) // 7
    took.sort()
    print(
        f"{name}: {count:,} answers (3 citations each) + {records - count:,} votes: record_answer "
        f"median {statistics.median(took) * 1e6:.1f} µs, p99 {took[int(0.99 * len(took))] * 1e6:.1f}"
        f" µs, max {took[-1] * 1e3:.2f} ms on the calling thread; all queued in {queued:.2f} s; "
        f"written in {written:.2f} s = {records / written:,.0f} records/s"
    )
    store = SQLStore.open(url)
    try:
        spread_over_a_week(store, count)
        embedder = default_embedder()  # loaded once, outside the timing (the CLI loads it too)
        elapsed = []
        for _ in range(2):  # the first embeds every wording, the second finds them cached
            started = time.perf_counter()
            report = build_report(store, datetime.now(UTC) - timedelta(days=8), lambda: embedder)
            elapsed.append(time.perf_counter() - started)
    finally:
        store.close()
    print(
        f"{name}: report over {report.questions:,} questions ({report.problems:,} problem "
        f"questions{', each unique' if unique else ''} -> {len(report.problem_groups):,} groups): "
        f"{elapsed[0]:.2f} s, again {elapsed[1]:.2f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.records", description=__doc__)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        stores: list[tuple[str, Callable[[], str]]] = [
            ("sqlite", lambda: f"sqlite:///{Path(folder) / 'a.sqlite3'}"),
            ("sqlite, unique questions", lambda: f"sqlite:///{Path(folder) / 'b.sqlite3'}"),
        ]
        for name, make_url in stores:
            measure(name, make_url(), args.questions, unique="unique" in name)
    if args.no_postgres:
        return
    from tests.postgres_server import running_server, server_binaries
    from tests.test_records import empty_postgres

    if server_binaries() is None:
        print("postgresql: not measured, no server binaries (apt-get install postgresql)")
        return

    with running_server() as url:
        measure("postgresql", empty_postgres(url), args.questions)


if __name__ == "__main__":
    main()
