"""Answers follow the documents: a file edited, added or removed while the assistant runs is
answered from as it now reads, and a quote is never of text the file no longer holds."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from tests.conftest import ROOT

RATE_QUESTION = "What is the mileage rate for using my own car?"
OLD = "Staff who drive their own car for work are paid 45p per mile.\n"
NEW = "Staff who drive their own car for work are paid 55p per mile.\n"
OTHER = (
    "Hotels must be booked through the travel desk.\n\n"
    "Economy class is the rule for flights under six hours.\n"
)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "travel.md").write_text("# Travel policy\n\n" + OLD, encoding="utf-8")
    (folder / "booking.md").write_text("# Booking\n\n" + OTHER, encoding="utf-8")
    return folder


def _verbatim(answer: dict[str, object], cwd: Path) -> None:
    for c in answer["citations"]:  # type: ignore[attr-defined]
        with open(cwd / c["path"], encoding="utf-8") as f:
            assert f.read()[c["start"] : c["end"]] == c["quote"]


def test_ask_json_stream_quotes_an_edited_document_as_it_now_reads(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "--knowledge", str(folder), "ask", "--json", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "POLICY_QA_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
    )
    assert process.stdin and process.stdout

    def ask(question: str) -> Any:
        process.stdin.write(question.encode() + b"\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
        return json.loads(process.stdout.readline())  # type: ignore[union-attr]

    try:
        first = ask(RATE_QUESTION)
        assert "45p" in first["citations"][0]["quote"]
        (folder / "travel.md").write_text("# Travel policy\n\n" + NEW, encoding="utf-8")
        second = ask(RATE_QUESTION)  # at once: the quote check reads the file again
        quotes = " ".join(c["quote"] for c in second["citations"])
        assert "55p" in quotes and "45p" not in quotes
        _verbatim(second, tmp_path)
        (folder / "travel.md").unlink()
        third = ask(RATE_QUESTION)
        assert all(c["path"] != "knowledge/travel.md" for c in third["citations"])
        _verbatim(third, tmp_path)
    finally:
        process.stdin.close()
        process.wait(timeout=60)
        errors = process.stderr.read().decode()  # type: ignore[union-attr]
        process.stdout.close()
        process.stderr.close()  # type: ignore[union-attr]
    assert process.returncode == 0, errors


def test_a_changed_file_is_read_again_before_it_is_quoted(tmp_path: Path, cache_dir: Path) -> None:
    folder = _folder(tmp_path)
    assistant = Assistant.load(folder, cache_dir=cache_dir)  # not watching: only the check
    assert "45p" in assistant.answer(RATE_QUESTION).citations[0].quote
    travel = folder / "travel.md"
    stamp = travel.stat()
    travel.write_text("# Travel policy\n\n" + NEW, encoding="utf-8")  # same size
    os.utime(
        travel, ns=(stamp.st_atime_ns, stamp.st_mtime_ns)
    )  # and the same time, as a copy keeps
    answer = assistant.answer(RATE_QUESTION)
    assert "55p" in answer.citations[0].quote
    assert assistant.index.stats.embedded == 1  # that document alone was embedded again


def test_the_watcher_picks_up_added_changed_and_removed_files_within_5_seconds(
    tmp_path: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assistant.status")
    folder = _folder(tmp_path)
    assistant = Assistant.load(folder, cache_dir=cache_dir)
    assistant.watch()
    try:
        index = assistant.index

        def swapped(within: float = 5.0) -> None:
            nonlocal index
            deadline = time.monotonic() + within
            while assistant.index is index:
                assert time.monotonic() < deadline, "no reload within 5 s"
                time.sleep(0.05)
            index = assistant.index

        (folder / "parking.md").write_text(
            "# Parking\n\nThe car park opens at seven in the morning.\n", encoding="utf-8"
        )
        swapped()
        assert [d.path.name for d in assistant.documents] == [
            "booking.md",
            "parking.md",
            "travel.md",
        ]
        assert index.stats.embedded == 1  # only the new document was embedded
        (folder / "travel.md").write_text("# Travel policy\n\n" + NEW, encoding="utf-8")
        swapped()
        assert any("55p" in index.text(i) for i in range(len(index)))
        (folder / "booking.md").unlink()
        swapped()
        assert "booking.md" not in {d.path.name for d in assistant.documents}
    finally:
        assistant.close()
    reloads = [r.getMessage() for r in caplog.records if "Reloaded" in r.getMessage()]
    assert reloads == [
        "Reloaded the documents: added parking.md; 3 documents, 4 passages now",
        "Reloaded the documents: changed travel.md; 3 documents, 4 passages now",
        "Reloaded the documents: removed booking.md; 2 documents, 2 passages now",
    ]


def test_answers_during_reloads_are_whole_and_verbatim(tmp_path: Path, cache_dir: Path) -> None:
    """Questions asked while the file flips between two versions: every answer is of one
    version or the other, never a mix, never an error."""
    folder = _folder(tmp_path)
    travel = folder / "travel.md"
    versions = ["# Travel policy\n\n" + OLD, "# Travel policy\n\n" + NEW]
    assistant = Assistant.load(folder, cache_dir=cache_dir)
    assistant.watch()
    stop = threading.Event()

    def flip() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            travel.write_text(versions[n % 2], encoding="utf-8")
            time.sleep(0.15)

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        for _ in range(40):
            answer = assistant.answer(RATE_QUESTION)
            for c in answer.citations:
                whole = versions[0] if "45p" in c.quote else versions[1]
                assert whole[c.start : c.end] == c.quote
    finally:
        stop.set()
        flipper.join()
        assistant.close()
