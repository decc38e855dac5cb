"""Word documents (.docx): our own walk over the package's XML with the standard zip module and lxml.

Why not python-docx: measured on the fixtures in tests/data/formats, it silently drops content
controls (`w:sdt`), tracked insertions, field results, text boxes, footnotes, nested tables and
headings set by outline level, repeats merged cells, and parsed a 256 MB zip bomb for 458 s and
4.7 GB. This walker reads the parts it needs within a size limit checked before anything is
inflated, parses them without entities or DTDs, and walks the body in document order.

The text is laid out as every extracted format's is (see assistant.formats.extracted): headings
(Title, Heading 1-9, or any paragraph with an outline level), paragraphs, list items starting with
the label Word would show ("2.a) "), table rows with their header row, code (never quoted), then
the footnotes. Running headers and footers, comments and deleted text are not part of it.

The package is read in package.py, paragraph styles in styles.py, list labels in numbering.py, and
the body walked into blocks in walk.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.document import HEADING, Block, Document, extracting, one_line
from assistant.document import title_from_path as _title_from_path
from assistant.formats.word.package import (
    MAX_UNZIPPED_BYTES,
    Package,
    document_properties,
    local_name,
    main_part,
    namespace,
)
from assistant.formats.word.walk import Walker

__all__ = ["MAX_UNZIPPED_BYTES", "read_docx"]

# Transitional (what Word and LibreOffice write) and Strict Open XML spell the namespaces apart.
_WORD_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
)
_METADATA_FIELDS = ("title", "publisher", "author", "date", "url", "speaker", "quote_speaker")


def _first_heading(blocks: tuple[Block, ...], text: str) -> str | None:
    headings = [b for b in blocks if b.kind == HEADING]
    best = min(headings, key=lambda b: b.level, default=None)
    first = next((b for b in headings if b.level == 1), best)
    return one_line(text[first.start : first.end]) if first else None


@extracting(version=1, libraries=("lxml",))
def read_docx(path: Path, data: bytes) -> Document:
    """A Word document's text and structure; ValueError when it is not one, is damaged, is
    encrypted, or would inflate past MAX_UNZIPPED_BYTES."""
    package = Package(data)
    main = main_part(package)
    document = package.xml(main)
    if (
        document is None
        or local_name(document) != "document"
        or namespace(document) not in (_WORD_NAMESPACES)
    ):
        raise ValueError(f"it is not a Word document (its main part is {main})")
    walker = Walker(package, main, document)
    body = document.find(walker.q("body"))
    if body is not None:
        walker.walk(body)
    walker.footnotes()
    properties = document_properties(package)
    text, blocks = walker.out.text, walker.out.blocks
    metadata = {**walker.front, **properties}
    date = metadata.get("date") or metadata.get("created") or metadata.get("modified")
    values = {k: metadata.get(k) for k in _METADATA_FIELDS}
    values["title"] = (
        metadata.get("title") or _first_heading(blocks, text) or _title_from_path(path)
    )
    values["date"] = date[:10] if date and re.match(r"\d{4}-\d\d-\d\d", date) else date
    return Document(
        path=path,
        text=text,
        body_start=0,
        metadata=metadata,
        blocks=blocks,
        **values,  # type: ignore[arg-type]
    )
