"""Word documents: files written by pandoc and re-saved by LibreOffice, read by our own walker,
give their text with headings, numbered lists, tables under their header row and code; content
python-docx drops is kept; and a file that is not a Word document is refused with its reason."""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from assistant.document import CODE, HEADER, HEADING, ITEM, PARAGRAPH, ROW, Document
from assistant.formats.word import read_docx
from assistant.passages import split_passages
from tests.conftest import DATA

FORMATS = DATA / "formats"


def _read(name: str) -> Document:
    path = FORMATS / name
    return read_docx(path, path.read_bytes())


def _blocks(doc: Document, kind: str) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks if b.kind == kind]


@pytest.mark.parametrize("name", ["structured.docx", "structured.lo.docx"])
def test_headings_lists_table_code_and_notes_of_pandoc_and_libreoffice_files(name: str) -> None:
    doc = _read(name)
    headings = [(doc.text[b.start : b.end], b.level) for b in doc.blocks if b.kind == HEADING]
    assert headings[:6] == [
        ("Acceptable Use Policy", 1),  # the Title paragraph
        ("Purpose", 1),
        ("Scope", 1),
        ("Covered systems", 2),
        ("Exclusions", 2),
        ("Rules", 1),
    ]
    items = _blocks(doc, ITEM)
    assert items[:5] == [
        "• Laptops and desktop computers issued by the organisation",
        "• Mobile phones enrolled in device management",
        "– Phones owned by the organisation",  # LibreOffice's Symbol-font U+F02D, shown as "–"
        "– Personal phones that read work e-mail",
        "• Cloud services bought with a company card",
    ]
    assert items[5:10] == [
        "1. Public kiosks in the lobby, which are managed by the landlord.",
        "2. Guest Wi-Fi, except where section 4 says otherwise.",
        "3. Research clusters, which have their own policy:",
        "1. the high-performance computing cluster;",
        "2. the genomics sequencing lab.",
    ]
    assert items[10] == "1. Change a password at once if you suspect it is known to someone else."
    (header,) = [b for b in doc.blocks if b.kind == HEADER]
    assert doc.text[header.start : header.end] == "Class | Examples | Handling"
    rows = [b for b in doc.blocks if b.kind == ROW]
    assert [doc.text[b.start : b.end] for b in rows][0] == (
        "Public | Press releases, the annual report | No restrictions"
    )
    assert len(rows) == 4 and all(b.header == (header.start, header.end) for b in rows)
    assert _blocks(doc, CODE) == ["passwd --expire jdoe\nchage --maxdays 90 jdoe"]
    assert "end of the contract.[1] Internal" in doc.text
    assert doc.text.endswith("[1] Or longer where a statute requires it.")
    assert (doc.title, doc.author, doc.date, doc.url) == (
        "Acceptable Use Policy",
        "IT Security Office",
        "2024-03-01",
        "https://intranet.example.org/policies/acceptable-use/",
    )
    # pandoc's author and date paragraphs under the title are front matter, not text
    assert "IT Security Office" not in doc.text and "2024-03-01" not in doc.text


def test_the_text_is_the_blocks_joined_by_blank_lines_and_the_same_every_time() -> None:
    doc = _read("structured.docx")
    assert doc.text == "\n\n".join(doc.text[b.start : b.end] for b in doc.blocks)
    assert _read("structured.docx") == doc and _read("structured.docx").blocks == doc.blocks


def test_what_python_docx_drops_is_read_and_what_is_not_shown_is_not() -> None:
    doc = _read("tricky.docx")
    text = doc.text
    assert "Content control: owned by the Security Office." in text  # a block w:sdt
    assert "Retention is seven years." in text  # the tracked insertion, not the deletion
    assert "five" not in text
    assert "Page 1 of 3" in text  # field results, not their codes
    assert "PAGE" not in text and "NUMPAGES" not in text
    assert text.count("Text box: call 555-0100 to report an incident.") == 1  # not its fallback
    assert ("Outline-level heading", 2) in [
        (text[b.start : b.end], b.level) for b in doc.blocks if b.kind == HEADING
    ]
    assert _blocks(doc, ITEM) == [
        "1. First step",
        "2. Second step",
        "2.a) Sub-step",
        "3. Third step",
        "1. Restarted list item",  # a second w:num restarting the list
        "• A bullet",
    ]
    rows = _blocks(doc, ROW)
    assert "Public | Web site | No restrictions" in rows  # a vertically merged cell, repeated
    assert "Nested | inner cell | after nested" in rows  # a nested table, flattened
    assert "\t" not in text and "\x00" not in text


def test_list_labels_are_never_passages_of_their_own() -> None:
    doc = _read("tricky.docx")
    passages = [doc.text[p.start : p.end] for p in split_passages(doc)]
    assert "Sub-step" in passages and "2.a)" not in passages
    assert not any(p.startswith(("1. ", "• ", "2.a)")) for p in passages)


def test_running_headers_and_footers_are_not_part_of_the_text() -> None:
    doc = _read("twocol.docx")
    with zipfile.ZipFile(FORMATS / "twocol.docx") as z:
        header = z.read("word/header1.xml").decode()
    assert "Information Governance Unit · Working Paper 2024/07" in header
    assert "Information Governance Unit · Working Paper 2024/07" not in doc.text
    assert "1.1 Organisations increasingly rely on" in doc.text


def test_a_table_across_page_breaks_keeps_its_header_row_on_every_row() -> None:
    doc = _read("table-pagebreak.docx")
    (header,) = [b for b in doc.blocks if b.kind == HEADER]
    rows = [b for b in doc.blocks if b.kind == ROW]
    assert doc.text[header.start : header.end] == "Control ID | Requirement | Owner"
    assert len(rows) == 70 and all(r.header == (header.start, header.end) for r in rows)
    assert doc.text[rows[-1].start : rows[-1].end] == (
        "C-070 | Rotate backup restores every 9 months. | HR"
    )


def test_pandoc_custom_properties_are_the_articles_metadata() -> None:
    doc = _read("article.docx")
    assert (
        doc.title == "Eugene Kaspersky Writes an Open Letter to Twitter’s Jack Dorsey Over Ad Ban"
    )
    assert (doc.author, doc.date, doc.publisher, doc.quote_speaker) == (
        "Oindrila Banerjee",
        "2018-04-20",
        "TechGenyz",
        "Eugene Kaspersky",
    )
    assert doc.blocks[1].kind == PARAGRAPH and doc.text[doc.blocks[1].start :].startswith(
        "Failing to receive any response"
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notzip.docx", "it is not a Word file (not a zip)"),
        ("not-a-docx.docx", "it is not a Word file (a zip without a document in it)"),
        ("bomb.docx", "its content would be 537 MB once unzipped, over the 100 MB limit"),
    ],
)
def test_files_that_are_not_word_documents_are_refused_at_once(name: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(ValueError) as error:
        _read(name)
    assert str(error.value) == reason
    assert time.monotonic() - started < 2


def test_a_bomb_whose_zip_header_lies_about_its_size_is_refused_without_inflating_it(
    tmp_path: Path,
) -> None:
    bomb = tmp_path / "lie.docx"
    generator = FORMATS / "src" / "gen_bomb_docx.py"
    subprocess.run([sys.executable, generator, bomb, "32", "--lie"], check=True)
    assert zipfile.ZipFile(bomb).getinfo("word/document.xml").file_size == 100_000
    started = time.monotonic()
    with pytest.raises(ValueError, match="it is damaged"):
        read_docx(bomb, bomb.read_bytes())
    assert time.monotonic() - started < 5


def _package(tmp_path: Path, document: str, main: str = "word/document.xml") -> Path:
    path = tmp_path / "made.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/officeDocument" Target="{main}"/></Relationships>',
        )
        z.writestr(main, document)
    return path


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    laughs = "".join(
        f'<!ENTITY l{i} "{"&l" + str(i - 1) + ";" if i else "lol"}{("&l" + str(i - 1) + ";") * 9 if i else ""}">'
        for i in range(10)
    )
    path = _package(
        tmp_path,
        f'<?xml version="1.0"?><!DOCTYPE d [{laughs}]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body></w:document>",
    )
    started = time.monotonic()
    try:
        doc = read_docx(path, path.read_bytes())
    except ValueError as e:
        assert "damaged" in str(e)
    else:
        assert "lol" not in doc.text
    assert time.monotonic() - started < 2


def test_an_office_file_that_is_not_a_word_document_says_so(tmp_path: Path) -> None:
    path = _package(tmp_path, "<workbook/>", main="xl/workbook.xml")
    with pytest.raises(ValueError, match=r"not a Word document \(its main part is xl/workbook"):
        read_docx(path, path.read_bytes())
    ole = tmp_path / "old.docx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    with pytest.raises(ValueError, match="encrypted .* or an old Word 97-2003 file"):
        read_docx(ole, ole.read_bytes())
