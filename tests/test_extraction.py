"""Formats that need extracting are read in a process of their own, within a time and a memory
limit, and what they give is cached by the file's bytes: a bad file is skipped with its reason,
never hangs indexing, and a restart parses nothing again."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.cache import Cache
from assistant.document import PARAGRAPH, Block, Document, extracting
from assistant.documents import Folder
from assistant.formats import READERS, isolation
from tests.conftest import ROOT

COUNTER = "counter"  # a file beside each document counts how often it was parsed


def _parsed(path: Path) -> None:
    counter = path.with_name(COUNTER)
    counter.write_text(str(int(counter.read_text()) + 1 if counter.exists() else 1))


@extracting(version=1)
def read_fine(path: Path, data: bytes) -> Document:
    _parsed(path)
    text = data.decode().upper()
    return Document(path, text, 0, "Fine", blocks=(Block(0, len(text), PARAGRAPH),))


@extracting(version=1)
def read_slowly(path: Path, data: bytes) -> Document:
    time.sleep(60)
    raise AssertionError("never reached")


@extracting(version=1)
def read_greedily(path: Path, data: bytes) -> Document:
    hoard = [bytearray(100_000_000) for _ in range(100)]  # 10 GB, far past the limit
    raise AssertionError(len(hoard))


@extracting(version=1)
def read_and_crash(path: Path, data: bytes) -> Document:
    ctypes.string_at(0)  # a parser's segmentation fault
    raise AssertionError("never reached")


@pytest.fixture
def formats(monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix, reader in {
        ".fine": read_fine, ".slow": read_slowly, ".greedy": read_greedily, ".crash": read_and_crash
    }.items():  # fmt: skip
        monkeypatch.setitem(READERS, suffix, reader)
    # A child imports this test module before it reads: on a busy machine that alone took 2 s.
    monkeypatch.setattr(isolation, "READ_SECONDS", 6.0)
    monkeypatch.setattr(isolation, "READ_MEMORY_MB", 512)


def test_bad_files_are_skipped_with_their_reason_and_the_rest_read(
    tmp_path: Path, formats: None, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("policy.fine", "loops.slow", "bomb.greedy", "broken.crash"):
        (tmp_path / name).write_text("staff get 25 days of leave.", encoding="utf-8")
    (tmp_path / "plain.md").write_text("Refunds take 14 days.", encoding="utf-8")
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    documents = Folder(tmp_path).read().documents
    assert time.monotonic() - started < 20
    assert sorted(d.path.name for d in documents) == ["plain.md", "policy.fine"]
    assert next(d for d in documents if d.path.suffix == ".fine").text == (
        "STAFF GET 25 DAYS OF LEAVE."
    )
    warnings = [r.getMessage() for r in caplog.records]
    assert any("loops.slow: it took longer than 6 s to read" in w for w in warnings)
    assert any("bomb.greedy: it needs more than 512 MB to read" in w for w in warnings)
    assert any("broken.crash: the reader stopped with signal 11" in w for w in warnings)
    assert len(warnings) == 3 and "Traceback" not in caplog.text


def test_an_extraction_is_cached_by_the_files_bytes(tmp_path: Path, formats: None) -> None:
    folder, cache = tmp_path / "knowledge", Cache(tmp_path / "cache", "model")
    folder.mkdir()
    (folder / "policy.fine").write_text("staff get 25 days.", encoding="utf-8")
    first = Folder(folder, extractions=cache).read().documents
    again = Folder(folder, extractions=cache).read().documents  # a restart
    assert first == again and (folder / COUNTER).read_text() == "1"
    (folder / "copy.fine").write_text("staff get 25 days.", encoding="utf-8")  # same bytes
    Folder(folder, extractions=cache).read()
    assert (folder / COUNTER).read_text() == "1"
    (folder / "copy.fine").unlink()
    (extracted,) = (tmp_path / "cache" / "extracted").iterdir()
    extracted.write_text("{damaged", encoding="utf-8")
    assert Folder(folder, extractions=cache).read().documents[0].text == "STAFF GET 25 DAYS."
    assert (folder / COUNTER).read_text() == "2"  # parsed again, once


def test_a_script_without_a_main_guard_reads_word_files(tmp_path: Path) -> None:
    """Extraction runs in plain worker processes: multiprocessing would import the caller's
    script again in each child, running a script without `if __name__ == "__main__"` twice."""
    folder = tmp_path / "knowledge"
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "formats" / "article.docx", folder)
    script = tmp_path / "script.py"
    script.write_text(
        "from assistant import Assistant\n"
        f"assistant = Assistant.load({str(folder)!r}, use_cache=False)\n"
        "print([d.path.name for d in assistant.documents])\n",
        encoding="utf-8",
    )
    for command in ([sys.executable, str(script)], [sys.executable, "-"]):
        result = subprocess.run(
            command,
            input=script.read_bytes() if command[-1] == "-" else None,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.decode().splitlines() == ["['article.docx']"]
