"""PDF: files written by LibreOffice give their text in reading order, without running headers,
footers and page numbers, with words broken at line ends joined again, tables under their header
row across page breaks, and the page of every passage; a PDF without usable text is refused
with its reason."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.document import CODE, HEADER, HEADING, ITEM, PAGE, PARAGRAPH, ROW, Document
from assistant.formats.pdf import read_pdf
from assistant.passages import split_passages
from tests.conftest import DATA, ROOT

FORMATS = DATA / "formats"


def _read(name: str) -> Document:
    path = FORMATS / name
    return read_pdf(path, path.read_bytes())


def _source_paragraphs() -> list[str]:
    """The two-column paper's paragraphs as written (src/twocol.txt), one per line."""
    lines = (FORMATS / "src" / "twocol.txt").read_text(encoding="utf-8").split("\n")
    return [
        line.split(" ", 1)[1] if line.startswith("@") else line
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


def test_a_two_column_paper_reads_in_order_without_its_running_header_and_footers() -> None:
    doc = _read("twocol.pdf")
    text = doc.text
    assert "Information Governance Unit · Working Paper 2024/07" not in text  # running header
    assert not re.search(r"Page \d of 3", text)  # footers
    found = [p for p in _source_paragraphs() if p in text]
    # The two that are not: "evidence-based" and "self-declaration", the author's own hyphens
    # broken at a line end, which the text cannot tell from the typesetter's (see pdf/text.py).
    assert len(found) == 27 and len(_source_paragraphs()) == 29
    assert [text.index(p) for p in found] == sorted(text.index(p) for p in found)
    assert "evidencebased" in text and "selfdeclaration" in text
    # Words the typesetter broke at line ends are whole again; the author's compound kept.
    for word in ("organisational", "telecommunications", "comprehensive", "key-management"):
        assert word in text
    assert "\ufffe" not in text and "- " not in text.replace(" - ", "")


def test_paragraphs_cut_by_column_and_page_breaks_are_one_and_each_sentence_has_its_page() -> None:
    doc = _read("twocol.pdf")
    paragraphs = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == PARAGRAPH]
    # One block per paragraph of the source (its title is a heading), none starting halfway:
    # 3.1, 3.3 and A.3 cross a column break, A.4 a page break.
    assert len(paragraphs) == len(_source_paragraphs()) - 1
    assert all(re.match(r"(?:[1-6A]\.\d |Abstract\. |Working Paper)", p) for p in paragraphs)
    (a4,) = [b for b in doc.blocks if b.kind == PARAGRAPH and doc.text.startswith("A.4 ", b.start)]
    assert a4.page == 2 and doc.text[a4.start : a4.end] == next(
        p for p in _source_paragraphs() if p.startswith("A.4 ")
    ).replace("self-declaration", "selfdeclaration")
    (mark,) = [b for b in doc.blocks if b.kind == PAGE]
    assert a4.start < mark.start < a4.end and mark.page == 3
    passages = split_passages(doc)
    pages = {doc.text[p.start : p.start + 4]: p.page for p in passages}
    assert (pages["A.4 "], pages["A.5 "], pages["1.1 "]) == (2, 3, 1)


def test_a_sentence_after_a_page_break_inside_a_paragraph_is_cited_with_its_page() -> None:
    doc = _read("article.pdf")
    passages = {doc.text[p.start : p.end][:30]: p.page for p in split_passages(doc)}
    assert passages["Scary large-scale difficulties"] == 1  # starts on page 1
    assert passages["And if, in addition to cyberse"] == 2
    assert "large-scale" in doc.text  # the author's hyphen at a page's end, kept


def test_headings_have_levels_by_size_and_the_title_is_the_documents() -> None:
    doc = _read("twocol.pdf")
    headings = [(doc.text[b.start : b.end], b.level) for b in doc.blocks if b.kind == HEADING]
    assert headings[0] == ("Cross-Border Data Transfers: A Practitioner’s Guide", 1)
    assert headings[1:3] == [("1 Introduction", 2), ("2 Legal mechanisms", 2)]
    assert len(headings) == 8
    assert doc.title == "Cross-Border Data Transfers: A Practitioner’s Guide"  # its Info Title
    assert doc.author == "Information Governance Unit"


def test_a_table_across_two_page_breaks_keeps_its_header_on_every_row() -> None:
    doc = _read("table-pagebreak.pdf")
    assert "Control Register · Internal" not in doc.text  # the running header
    headers = [b for b in doc.blocks if b.kind == HEADER]
    rows = [b for b in doc.blocks if b.kind == ROW]
    assert [doc.text[h.start : h.end] for h in headers] == ["Control ID | Requirement | Owner"] * 3
    assert [h.page for h in headers] == [1, 2, 3]  # repeated at the top of each page
    assert len(rows) == 70
    for row in rows:
        header = max((h for h in headers if h.start < row.start), key=lambda h: h.start)
        assert row.header == (header.start, header.end) and row.page == header.page
    texts = [doc.text[r.start : r.end] for r in rows]
    assert texts[0] == "C-001 | Enforce visitor badges every 6 months. | Network Team"
    # A cell wrapped over three lines is one cell, and the row's last cell is still its own.
    assert texts[8] == (
        "C-009 | Enforce visitor badges every 6 months. Evidence of the review is kept in the "
        "register together with the name of the reviewer, the date and any exceptions that were "
        "granted. | Facilities"
    )
    assert all(len(t.split(" | ")) == 3 for t in texts)
    assert doc.text.endswith("End of register. Controls not listed here are out of scope.")
    cited = [p for p in split_passages(doc) if doc.text.startswith("C-040", p.start)]
    assert cited and cited[0].page == 2 and cited[0].header is not None


def test_lists_code_and_a_borderless_table_of_a_converted_word_file() -> None:
    doc = _read("structured.pdf")
    items = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == ITEM]
    assert items[:3] == [
        "• Laptops and desktop computers issued by the organisation",
        "• Mobile phones enrolled in device management",
        "– Phones owned by the organisation",
    ]
    assert [b.level for b in doc.blocks if b.kind == ITEM][:3] == [0, 0, 1]
    rows = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == ROW]
    assert rows == [
        "Public | Press releases, the annual report | No restrictions",
        "Internal | Org charts, meeting notes | Share inside the organisation only",
        "Confidential | Contracts, salary data | Encrypt in transit and at rest",
        "Restricted | Health records, passwords | Named individuals only; log every access",
    ]
    code = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == CODE]
    assert code == ["passwd --expire jdoe\nchage --maxdays 90 jdoe"]
    passages = [doc.text[p.start : p.end] for p in split_passages(doc)]
    assert not any("passwd" in p for p in passages)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("scanned.pdf", "no text layer — scanned? (OCR it first)"),
        ("encrypted.pdf", "it is encrypted (a password is needed)"),
        ("truncated.pdf", "it is damaged or not a PDF (data format error)"),
        ("garbage.pdf", "it is damaged or not a PDF (data format error)"),
    ],
)
def test_a_pdf_without_usable_text_is_refused_with_its_reason(name: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(ValueError) as error:
        _read(name)
    assert str(error.value) == reason
    assert time.monotonic() - started < 2


def test_a_500_page_pdf_is_read_with_every_page_and_without_its_running_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handbook.pdf"
    generator = FORMATS / "src" / "gen_big_pdf.py"
    subprocess.run([sys.executable, generator, path, "500"], check=True)
    started = time.monotonic()
    doc = read_pdf(path, path.read_bytes())
    assert time.monotonic() - started < 60  # measured 2-4 s on one core
    headings = [b for b in doc.blocks if b.kind == HEADING]
    assert [doc.text[h.start : h.end] for h in headings[:2]] == ["Section 1", "Section 2"]
    assert len(headings) == 500 and [h.page for h in headings] == list(range(1, 501))
    assert "ACME Information Security Handbook" not in doc.text  # the running header
    assert "of 500" not in doc.text  # the page footers


def test_the_same_file_always_gives_the_same_text() -> None:
    first, again = _read("twocol.pdf"), _read("twocol.pdf")
    assert first == again and first.blocks == again.blocks


def test_the_article_converted_by_libreoffice_is_whole() -> None:
    doc = _read("article.pdf")
    article = (ROOT / "knowledge" / "kaspersky-twitter-article.md").read_text(encoding="utf-8")
    body = article.split("---\n", 2)[2]
    paragraphs = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
    assert all(p in doc.text for p in paragraphs)


def test_a_title_that_only_names_the_source_file_gives_way_to_the_first_heading(
    tmp_path: Path,
) -> None:
    generator = FORMATS / "src" / "gen_big_pdf.py"
    for title, expected in (
        ("Microsoft Word - register.docx", "Section 1"),
        ("Information Security Handbook", "Information Security Handbook"),
    ):
        path = tmp_path / "register.pdf"
        subprocess.run([sys.executable, generator, path, "2", "3", title], check=True)
        assert read_pdf(path, path.read_bytes()).title == expected


def _one_page_pdf(content: str) -> bytes:
    """A one-page PDF with Helvetica and this content stream (stdlib only)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content.encode("latin-1")),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_a_single_line_with_a_wide_gap_is_a_paragraph_not_a_table_without_rows(
    tmp_path: Path,
) -> None:
    lines = [
        (72, 700, "Visitors sign the register at reception."),
        (72, 670, "Name:"),
        (360, 670, "Date of visit:"),
        (72, 640, "Badges are returned when leaving the building."),
    ]
    content = "\n".join(f"BT /F1 11 Tf {x} {y} Td ({text}) Tj ET" for x, y, text in lines)
    path = tmp_path / "form.pdf"
    path.write_bytes(_one_page_pdf(content))
    doc = read_pdf(path, path.read_bytes())
    assert [b.kind for b in doc.blocks].count(HEADER) == 0
    assert "Name: Date of visit:" in [doc.text[b.start : b.end] for b in doc.blocks]
    assert [p.page for p in split_passages(doc)] == [1, 1, 1]
