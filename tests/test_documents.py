"""Reading knowledge folders: metadata, formats, and files that cannot be read."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from assistant.documents import load_documents, read_document
from assistant.errors import ConfigurationError, KnowledgeError
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
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    (tmp_path / ".hidden.md").write_text("secret", encoding="utf-8")
    docs = load_documents(tmp_path)
    assert [d.path.name for d in docs] == ["good.md"]
    assert "binary.txt: it looks like a binary file" in caplog.text
    assert "latin1.txt: it is not UTF-8 text" in caplog.text
    assert "scan.pdf: it is damaged or not a PDF" in caplog.text
    assert "slides.pptx: not a supported format" in caplog.text
    assert ".hidden" not in caplog.text


def test_a_file_over_the_size_limit_is_skipped_at_once_with_its_size_and_the_setting(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "policy.md").write_text("Refunds take 14 days.", encoding="utf-8")
    with (tmp_path / "dump.txt").open("wb") as f:
        f.truncate(60_000_000)  # 60 MB (sparse): its size alone must skip it, unread
    started = time.monotonic()
    docs = load_documents(tmp_path)
    assert time.monotonic() - started < 5
    assert [d.path.name for d in docs] == ["policy.md"]
    assert "dump.txt: it is 60.0 MB, over the 20.0 MB limit (POLICY_QA_MAX_FILE_MB" in caplog.text
    monkeypatch.setenv("POLICY_QA_MAX_FILE_MB", "0.00001")  # 10 bytes: nothing fits now
    with pytest.raises(KnowledgeError, match="no readable documents"):
        load_documents(tmp_path)


@pytest.mark.parametrize("value", ["0", "-3", "lots", "inf"])
def test_a_bad_size_limit_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    (tmp_path / "a.md").write_text("Text.", encoding="utf-8")
    monkeypatch.setenv("POLICY_QA_MAX_FILE_MB", value)
    with pytest.raises(ConfigurationError, match="POLICY_QA_MAX_FILE_MB"):
        load_documents(tmp_path)


def test_links_leading_outside_the_folder_are_never_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, outside = tmp_path / "knowledge", tmp_path / "secrets"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "passwords.txt").write_text("root password is hunter2.", encoding="utf-8")
    (folder / "policy.md").write_text("Refunds take 14 days.", encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "sub" / "pw.txt").symlink_to(outside / "passwords.txt")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    (folder / "loop.md").symlink_to(folder / "loop.md")
    (folder / "copy.md").symlink_to(folder / "policy.md")  # inside: read where it points
    docs = load_documents(folder)
    assert sorted(d.path.name for d in docs) == ["copy.md", "policy.md"]
    assert not any("hunter2" in d.text or "root:" in d.text for d in docs)
    assert "passwd.txt: it links to /etc/passwd, outside the knowledge folder" in caplog.text
    assert "pw.txt: it links to" in caplog.text and "loop.md" in caplog.text


def test_folders_of_any_depth_are_read(tmp_path: Path) -> None:
    folder = os.open(tmp_path, os.O_RDONLY)
    for _ in range(1100):  # deeper than Python's recursion limit (and than pathlib's mkdir)
        os.mkdir("d", dir_fd=folder)
        inner = os.open("d", os.O_RDONLY, dir_fd=folder)
        os.close(folder)
        folder = inner
    deepest = os.open("deep.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder)
    os.write(deepest, b"The deepest rule.")
    os.close(deepest)
    os.close(folder)
    (tmp_path / "top.md").write_text("The top rule.", encoding="utf-8")
    try:
        assert sorted(d.path.name for d in load_documents(tmp_path)) == ["deep.md", "top.md"]
    finally:
        _remove_deep(tmp_path)


def _remove_deep(top: Path) -> None:
    """Removes the chain of "d" folders bottom up, one level at a time: shutil.rmtree (and so
    pytest's clean-up of old temporary folders) recurses, and would fail at this depth."""
    chain = [os.open(top, os.O_RDONLY)]
    while True:
        try:
            chain.append(os.open("d", os.O_RDONLY, dir_fd=chain[-1]))
        except FileNotFoundError:
            break
    for name in os.listdir(chain[-1]):
        os.unlink(name, dir_fd=chain[-1])
    while len(chain) > 1:
        os.close(chain.pop())
        os.rmdir("d", dir_fd=chain[-1])
    os.close(chain[0])


def test_a_nul_byte_anywhere_makes_a_file_binary(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.md").write_text("Refunds take 14 days.", encoding="utf-8")
    (tmp_path / "late-nul.txt").write_bytes(b"A rule. " * 2000 + b"\x00 hidden")
    assert [d.path.name for d in load_documents(tmp_path)] == ["good.md"]
    assert "late-nul.txt: it looks like a binary file" in caplog.text


def test_an_unreadable_file_or_folder_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.md").write_text("Refunds take 14 days.", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.md")  # reading a pipe would wait forever
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.md").write_text("Hidden rule.", encoding="utf-8")
    (tmp_path / "locked").chmod(0)
    try:
        names = [d.path.name for d in load_documents(tmp_path)]
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert "good.md" in names and "pipe.md" not in names


def test_control_characters_in_file_names_are_escaped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "leave\npolicy\x1b[31m.md").write_text("Staff get 25 days.", encoding="utf-8")
    (tmp_path / "bad\nname.txt").write_bytes(b"\x00")
    (doc,) = load_documents(tmp_path)
    assert doc.title == "Leave\\npolicy\\x1b[31m"
    assert "bad\\nname.txt: it looks like a binary file" in caplog.text
    assert "\n" not in caplog.records[0].getMessage()


def test_front_matter_values_are_one_printable_line(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        '---\ntitle: "Leave\\npolicy\\u001b[2J"\npublisher: "Acme\\u2028Ltd"\n---\nText.\n',
        encoding="utf-8",
    )
    doc = read_document(tmp_path / "a.md")
    assert doc.title == "Leave policy\\x1b[2J" and doc.publisher == "Acme Ltd"


def test_a_plain_text_title_is_its_first_line_when_that_reads_as_one(tmp_path: Path) -> None:
    (tmp_path / "travel.txt").write_text(
        "TRAVEL AND EXPENSES POLICY\n\nEconomy class only.\n", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("Economy class only. No upgrades.\n", encoding="utf-8")
    assert read_document(tmp_path / "travel.txt").title == "TRAVEL AND EXPENSES POLICY"
    assert read_document(tmp_path / "notes.txt").title == "Notes"
