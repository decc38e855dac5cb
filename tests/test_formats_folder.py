"""A knowledge folder that mixes every format with one of each bad file: each bad file is skipped
with one warning that says why, the good ones are indexed and answer with the real model, and a
restart parses nothing again (extractions and refusals are kept by the files' bytes)."""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant import document as document_module
from assistant import documents as documents_module
from assistant.cache import Cache
from assistant.document import extraction_key
from assistant.documents import read_document
from assistant.formats.isolation import read_isolated as real_read_isolated
from assistant.formats.pdf import read_pdf
from tests.conftest import DATA

FORMATS = DATA / "formats"
GOOD = ["article.site.html", "structured.docx", "twocol.pdf", "table-pagebreak.pdf"]
BAD = {
    "scanned.pdf": "no text layer — scanned? (OCR it first)",
    "encrypted.pdf": "it is encrypted (a password is needed)",
    "truncated.pdf": "it is damaged or not a PDF (data format error)",
    "garbage.pdf": "it is damaged or not a PDF (data format error)",
    "notzip.docx": "it is not a Word file (not a zip)",
    "not-a-docx.docx": "it is not a Word file (a zip without a document in it)",
    "bomb.docx": "its content would be 537 MB once unzipped, over the 100 MB limit",
    "site-dump.html": "it is 50.0 MB, over the 20.0 MB limit (POLICY_QA_MAX_FILE_MB raises it)",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mixed") / "knowledge"
    root.mkdir()
    for name in [*GOOD, *(n for n in BAD if n != "site-dump.html")]:
        shutil.copy(FORMATS / name, root / name)
    (root / "leave.md").write_text("# Leave\n\nStaff get 25 days of annual leave.\n")
    (root / "notes.txt").write_text("PARKING\n\nVisitors park in bay C behind reception.\n")
    generators = FORMATS / "src"
    # 500 pages, two numbered lines each: a long PDF, read within the limits (and cheap to embed)
    subprocess.run(
        [sys.executable, generators / "gen_big_pdf.py", root / "handbook.pdf", "500", "2"],
        check=True,
    )
    subprocess.run(
        [sys.executable, generators / "gen_big_html.py", root / "site-dump.html", "50"], check=True
    )
    return root


def _warnings(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """File name -> reason, for every warning; fails on a second warning for one file."""
    found: dict[str, str] = {}
    for record in caplog.records:
        if record.levelno < logging.WARNING:
            continue
        message = record.getMessage()
        assert message.startswith("Skipped "), message
        path, reason = message.removeprefix("Skipped ").split(": ", 1)
        name = Path(path).name
        assert name not in found, f"two warnings for {name}"
        found[name] = reason
    return found


def _counting(calls: list[str]) -> Callable[..., Any]:
    def read_isolated(reader: Any, path: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(path.name)
        return real_read_isolated(reader, path, *args, **kwargs)

    return read_isolated


def test_every_bad_file_is_one_warning_and_the_good_ones_answer_and_a_restart_parses_nothing(
    folder: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(documents_module, "read_isolated", _counting(calls))
    caplog.set_level(logging.WARNING)
    assistant = Assistant.load(folder, cache_dir=tmp_path / "cache")
    assert _warnings(caplog) == BAD
    read = sorted(d.path.name for d in assistant.documents)
    assert read == sorted([*GOOD, "handbook.pdf", "leave.md", "notes.txt"])
    extracted = [n for n in BAD if n != "site-dump.html"] + [*GOOD, "handbook.pdf"]
    assert sorted(calls) == sorted(extracted)  # each parsed once; the 50 MB page never

    twitter = assistant.answer("What did Twitter say about Kaspersky's business model?")
    assert any(
        c.path.endswith("article.site.html") and "inherently conflicts" in c.quote
        for c in twitter.citations
    )
    control = assistant.answer("How often are firewall rules reviewed under C-040?").citations[0]
    assert control.path.endswith("table-pagebreak.pdf") and control.page == 2
    assert control.quote == "C-040 | Review firewall rules every 3 months. | HR"
    assert control.header is not None and control.header.quote == "Control ID | Requirement | Owner"
    mechanism = assistant.answer("What is the simplest mechanism for a transfer?")
    assert any(
        c.path.endswith("twocol.pdf")
        and c.page == 1
        and "adequacy decision is the simplest" in c.quote
        for c in mechanism.citations
    )
    passwords = assistant.answer("How long must a password be?").citations[0]
    assert passwords.path.endswith("structured.docx") and "14 characters" in passwords.quote
    assert passwords.locator.startswith("“Passwords”, ")
    assistant.close()

    # A restart: every extraction, and every refusal, comes from the cache.
    calls.clear()
    caplog.clear()
    again = Assistant.load(folder, cache_dir=tmp_path / "cache")
    assert calls == []
    assert _warnings(caplog) == BAD  # still one warning per bad file, with its reason
    assert sorted(d.path.name for d in again.documents) == read
    repeated = again.answer("How often are firewall rules reviewed under C-040?").citations[0]
    assert repeated.quote == control.quote
    again.close()


def test_a_newer_parser_extracts_again_rather_than_trusting_an_older_ones_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert extraction_key(read_pdf) == f"2-pypdfium2-{importlib.metadata.version('pypdfium2')}"
    calls: list[str] = []
    monkeypatch.setattr(documents_module, "read_isolated", _counting(calls))
    cache = Cache(tmp_path / "cache", "model")
    shutil.copy(FORMATS / "twocol.pdf", tmp_path / "paper.pdf")
    first = read_document(tmp_path / "paper.pdf", extractions=cache)
    assert read_document(tmp_path / "paper.pdf", extractions=cache).text == first.text
    assert calls == ["paper.pdf"]
    monkeypatch.setattr(document_module, "_installed", lambda name: "99.0")  # an upgrade
    read_document(tmp_path / "paper.pdf", extractions=cache)
    assert calls == ["paper.pdf", "paper.pdf"]
