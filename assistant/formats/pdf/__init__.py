"""PDF documents: their text layer read with pypdfium2 (PDFium), laid out into blocks by line
geometry, each block with its page.

Why pypdfium2 (BSD-3-Clause/Apache-2.0): measured on the fixtures in tests/data/formats, it read
500 pages at 490-700 pages/s in 25-29 MB (pypdf 22-316, pdfminer 15-26, pdfplumber 7-9 pages/s
and 2.7 GB), kept the two-column paper in reading order (where pdfplumber interleaved the
columns), flags line-end hyphens, and gives the per-character boxes, baselines and fonts that
the layout below needs. It raises one PdfiumError on an encrypted or damaged file in < 0.1 s.

What is quoted, and what is not:
- running headers, footers and page numbers are left out (a line in the top or bottom tenth of
  the page, set apart from the body, that repeats on half the pages, or reads as a page number);
- a word hyphenated at a line end is joined again ("organisa-/tional" is "organisational");
- a paragraph that a column or page break cuts in two is one paragraph again, each of its
  sentences cited with the page it starts on;
- lines with wide gaps between words are table rows: cells joined by " | ", under the table's
  header row, which a table continued on the next page keeps (or repeats);
- headings are told by size and weight, list items by their bullet or number, code by a
  monospaced font (never quoted).

The same file always gives the same text: PDFium's output and this layout are deterministic.

Reading a PDF, in the order read_pdf does it: lines.py takes each page's lines and words with their
geometry and drops the running text, layout.py groups the lines into blocks, text.py joins the
blocks' lines into the text quoted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.document import HEADING, Document, extracting, one_line
from assistant.document import title_from_path as _title_from_path
from assistant.formats.pdf.layout import lay_out
from assistant.formats.pdf.lines import body_size, drop_running, page_lines
from assistant.formats.pdf.text import block_text

# At the measured 170-260 pages/s (with the geometry lines.py reads) this many pages take
# 20-30 s, well inside the 120 s a file may take; a longer PDF is a book or a scan dump, not a
# policy.
MAX_PAGES = 5_000
# A Title that a converter filled in with the source file's name, not the document's own title.
_FILE_TITLE = re.compile(
    r"^(?:Microsoft (?:Word|PowerPoint|Excel) - |untitled$)|\.(?:docx?|odt|rtf|txt|pptx?|xlsx?)$",
    re.IGNORECASE,
)


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise ValueError("it is encrypted (a password is needed)") from None
        said = re.search(r"PDFium: ([^)]*)", str(e))
        reason = said.group(1) if said else str(e)
        raise ValueError(f"it is damaged or not a PDF ({reason.strip().lower()})") from None


def _no_text(pdf: Any) -> str:
    import pypdfium2.raw as pdfium_c

    for index in range(min(len(pdf), 10)):
        page = pdf[index]
        try:
            if next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]), None) is not None:
                return "no text layer — scanned? (OCR it first)"
        finally:
            page.close()
    return "it has no text"


def _metadata(pdf: Any) -> dict[str, str]:
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except Exception:  # noqa: BLE001 - an unreadable info dictionary is no metadata
        return {}
    values = {k.lower(): one_line(str(v)) for k, v in info.items() if one_line(str(v))}
    if _FILE_TITLE.search(values.get("title", "")):
        del values["title"]  # "Microsoft Word - leave.docx" names the file, not the document
    created = re.match(r"D:(\d{4})(\d\d)?(\d\d)?", values.get("creationdate", ""))
    if created:
        values["date"] = "-".join(part for part in created.groups() if part)
    return values


@extracting(version=2, libraries=("pypdfium2",))
def read_pdf(path: Path, data: bytes) -> Document:
    """A PDF's text and structure, each block with its page; ValueError when it has no text
    layer, is encrypted, damaged, or longer than MAX_PAGES."""
    pdf = _open(data)
    try:
        if len(pdf) > MAX_PAGES:
            raise ValueError(f"it has {len(pdf):,} pages, over the {MAX_PAGES:,} page limit")
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                pages.append(page_lines(page, index + 1))
            finally:
                page.close()
        if not any(lines for lines, _ in pages):
            raise ValueError(_no_text(pdf))
        metadata = _metadata(pdf)
    finally:
        pdf.close()
    kept = drop_running(pages)
    lines = [line for on_page in kept for line in on_page]
    body = body_size(iter(lines))
    out = block_text(lay_out(kept, body), lines)
    text, found = out.text, out.blocks
    first = min((b for b in found if b.kind == HEADING), key=lambda b: b.level, default=None)
    title = metadata.get("title") or (one_line(text[first.start : first.end]) if first else None)
    return Document(
        path=path,
        text=text,
        body_start=0,
        title=title or _title_from_path(path),
        author=metadata.get("author"),
        date=metadata.get("date"),
        metadata=metadata,
        blocks=found,
    )
