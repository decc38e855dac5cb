"""Reading knowledge folders: metadata, formats, and files that cannot be read."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.documents import load_documents, read_document
from assistant.errors import KnowledgeError
from tests.conftest import ROOT


def test_bundled_article_carries_its_metadata_and_exact_text() -> None:
    (doc,) = load_documents(ROOT / "knowledge")
    assert doc.publisher == "TechGenyz"
    assert doc.author == "Oindrila Banerjee"
    assert doc.date == "2018-04-20"
    assert doc.url and doc.url.startswith("https://www.techgenyz.com/")
    assert doc.quote_speaker == "Eugene Kaspersky"
    seed = ROOT.parent / "shared" / "seed" / "kaspersky-twitter-article.txt"
    body = doc.text[doc.body_start :]
    assert body.startswith("Failing to receive any response from Twitter")
    if seed.exists():  # the article is kept exactly as scraped
        assert body == seed.read_text(encoding="utf-8")


def test_markdown_title_comes_from_the_first_heading(tmp_path: Path) -> None:
    (tmp_path / "handbook.md").write_text(
        "# Leave Policy\n\nStaff get 25 days.\n", encoding="utf-8"
    )
    assert read_document(tmp_path / "handbook.md").title == "Leave Policy"


def test_plain_text_title_comes_from_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "travel_expenses-policy.txt").write_text("Economy class only.", encoding="utf-8")
    assert read_document(tmp_path / "travel_expenses-policy.txt").title == "Travel expenses policy"


def test_bad_front_matter_is_read_as_text_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.md").write_text(
        "---\ntitle: [unclosed\n---\nBody text here.\n", encoding="utf-8"
    )
    doc = read_document(tmp_path / "a.md")
    assert doc.body_start == 0 and "not valid YAML" in caplog.text


def test_missing_and_empty_folders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_documents(tmp_path / "nope")
    with pytest.raises(KnowledgeError, match="no readable documents"):
        load_documents(tmp_path)
    (tmp_path / "file.md").write_text("x", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not a folder"):
        load_documents(tmp_path / "file.md")


def test_unreadable_binary_and_foreign_files_are_skipped_with_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    (tmp_path / "good.md").write_text("Refunds take 14 days.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PK")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / ".hidden.md").write_text("secret", encoding="utf-8")
    docs = load_documents(tmp_path)
    assert [d.path.name for d in docs] == ["good.md"]
    assert "binary.txt: it looks like a binary file" in caplog.text
    assert "latin1.txt: it is not UTF-8 text" in caplog.text
    assert "scan.pdf: not a supported format" in caplog.text
    assert ".hidden" not in caplog.text
