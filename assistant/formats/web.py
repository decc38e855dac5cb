"""Web pages (.html, .htm): the main content only, through trafilatura, with headings, lists, tables
and code kept apart.

Why trafilatura (Apache-2.0): on the site-template pages in tests/data/formats it found all of the
content (12/12 and 49/49 blocks) with none of the navigation, cookie banner, share lines, tags,
newsletter box or footer, and kept the structure, where readability-lxml lost the title and the
table headers and jusText called every block of the structured page boilerplate. We take its
XML tree (`bare_extraction().body`) and lay its blocks out ourselves, as every extracted format
is laid out (assistant.formats.extracted); its own serialisers are the slow part on big pages.

Two kinds of page go to our own lxml heuristic instead (assistant.formats.web_fallback): pages
over FALLBACK_BYTES, on which trafilatura takes about 4 s per MB, and pages where it finds under
MIN_CONTENT characters, where it falls back to the whole body and keeps the navigation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.document import (
    CODE,
    HEADER,
    HEADING,
    ITEM,
    PARAGRAPH,
    ROW,
    Document,
    extracting,
    one_line,
)
from assistant.document import title_from_path as _title_from_path
from assistant.formats import web_fallback
from assistant.formats.extracted import CELL_SEPARATOR, Piece, build, code, inline

# Measured (REPORT §4.2): trafilatura takes 4.0 / 19.3 / 38.1 s on 1 / 5 / 10 MB of list- and
# table-heavy markup, our heuristic 0.5 / 2.3 / 6.0 s; at 5 MB a page still reads well within
# the 120 s a file may take, even on a loaded machine.
FALLBACK_BYTES = 5_000_000
# Below trafilatura's own MIN_EXTRACTED_SIZE (250) it switches to a whole-body baseline, which on
# a 72-character page kept the menu ("Home About Smoking Short policy: ..."); ours got it right.
MIN_CONTENT = 250
# The back-link of a footnote ("↩︎"), which trafilatura keeps in the note's text.
_BACKLINK = re.compile("\u21a9\ufe0e?")


def _text_of(element: Any, skip: tuple[str, ...] = ("list", "table")) -> str:
    """An element's visible text, without nested lists and tables (blocks of their own)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append(" ")
        elif child.tag not in skip:
            parts.append(_text_of(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _clean(text: str) -> str:
    return inline(_BACKLINK.sub("", text))


class _Walker:
    """trafilatura's XML body (head, p, list/item, table/row/cell, code, quote) -> pieces."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def add(self, kind: str, text: str, level: int = 0) -> None:
        if text.strip():
            self.pieces.append(Piece(kind, text, level))

    def walk(self, parent: Any, depth: int = 0) -> None:
        for child in parent:
            tag = child.tag
            if tag == "head":
                rend = str(child.get("rend") or "")
                level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
                self.add(HEADING, _clean(_text_of(child)), level)
            elif tag == "code":
                self.add(CODE, code("".join(child.itertext())))
            elif tag == "list":
                self.items(child, depth)
            elif tag == "table":
                self.table(child)
            elif tag in ("p", "quote"):
                self.add(PARAGRAPH, _clean(_text_of(child)))
                self.walk([c for c in child if c.tag in ("list", "table")], depth)
            elif tag in ("div", "main", "body", "doc", "section", "article"):
                self.walk(child, depth)
            elif isinstance(tag, str):  # graphic captions, refs, hi at the top: text of their own
                self.add(PARAGRAPH, _clean("".join(child.itertext())))

    def items(self, listing: Any, depth: int) -> None:
        ordered = listing.get("rend") == "ol"
        for number, item in enumerate((c for c in listing if c.tag == "item"), 1):
            label = f"{number}." if ordered else "•"
            text = _clean(_text_of(item, skip=("list", "table", "p", "code")))
            paragraphs = [c for c in item if c.tag == "p"]
            if not text and paragraphs:  # <li><p>...</p></li>: the first paragraph is the item
                text, paragraphs = _clean(_text_of(paragraphs[0])), paragraphs[1:]
            if text:
                self.add(ITEM, f"{label} {text}", depth)
            for child in item:
                if child.tag == "list":
                    self.items(child, depth + 1)
                elif child.tag == "table":
                    self.table(child)
                elif child.tag == "code":
                    self.add(CODE, code("".join(child.itertext())))
                elif child in paragraphs:
                    self.add(PARAGRAPH, _clean(_text_of(child)))

    def table(self, table: Any) -> None:
        rows = [[c for c in row if c.tag == "cell"] for row in table.iter("row")]
        cells = [[_clean(_text_of(c)) for c in row] for row in rows]
        kept = [i for i, row in enumerate(cells) if any(row)]
        if len(kept) < 2 or max(len(cells[i]) for i in kept) < 2:
            for i in kept:  # a box around text, not data under a header
                for cell in cells[i]:
                    self.add(PARAGRAPH, cell)
            return
        # The header: the first row (a table without <th> still names its columns in its first
        # row, as a reader sees it), or a later row made of header cells only.
        for n, i in enumerate(kept):
            heads = all(c.get("role") == "head" for c in rows[i])
            kind = HEADER if n == 0 or heads else ROW
            self.pieces.append(Piece(kind, CELL_SEPARATOR.join(cells[i])))


def _trafilatura(data: bytes) -> Any | None:
    import trafilatura  # imported by the extraction server once, not by the assistant

    return trafilatura.bare_extraction(
        data,
        include_tables=True,
        include_formatting=True,  # keeps <code>, whose blocks are never quoted
        include_comments=False,
        include_links=False,
        include_images=False,
        with_metadata=True,
        # Its deduplication keeps a process-wide cache of what it saw before: the same page
        # would then give different text depending on what was read first.
        deduplicate=False,
    )


def _metadata(found: Any | None, page: web_fallback.PageMetadata) -> dict[str, str]:
    """The page's own <link rel=canonical> and <meta> tags first; then what trafilatura made
    of the rest (a title without the site's name, a byline, a date in the text)."""
    candidates = {
        "title": (page.title, getattr(found, "title", None), page.html_title, page.h1),
        "author": (page.author, getattr(found, "author", None)),
        "date": (page.date, getattr(found, "date", None)),
        "url": (page.url, getattr(found, "url", None)),
        "publisher": (page.site, getattr(found, "sitename", None)),
    }
    values: dict[str, str] = {}
    for key, options in candidates.items():
        value = next((one_line(str(v)) for v in options if v and one_line(str(v))), None)
        if value:
            values[key] = value
    return values


@extracting(version=1, libraries=("trafilatura", "htmldate", "lxml"))
def read_html(path: Path, data: bytes) -> Document:
    """A web page's main content and its metadata; ValueError when it has no text."""
    root = web_fallback.parse(data)
    page = web_fallback.page_metadata(root)
    found = None
    pieces: list[Piece] = []
    if len(data) <= FALLBACK_BYTES:
        found = _trafilatura(data)
        if found is not None and found.body is not None:
            walker = _Walker()
            walker.walk(found.body)
            pieces = walker.pieces
    metadata = _metadata(found, page)
    if sum(len(p.text) for p in pieces) < MIN_CONTENT:
        pieces = web_fallback.extract(root, page.title or page.html_title) or pieces
    # A paragraph that only repeats the page's author or date is a byline left in the content
    # (pandoc's title block leaves its date there).
    byline = {metadata.get("author"), metadata.get("date")} - {None}
    pieces = [p for p in pieces if not (p.kind == PARAGRAPH and p.text in byline)]
    if page.h1 and not any(p.kind == HEADING and p.level == 1 for p in pieces):
        # The page's headline, when the content found has none (pandoc's plain template puts
        # it in a <header>, which trafilatura leaves out as site chrome).
        pieces.insert(0, Piece(HEADING, page.h1, 1))
    out = build(pieces)
    if not out.text:
        raise ValueError("no text found in it (an empty page, or one its scripts fill in)")
    return Document(
        path=path,
        text=out.text,
        body_start=0,
        title=metadata.get("title") or _title_from_path(path),
        publisher=metadata.get("publisher"),
        author=metadata.get("author"),
        date=metadata.get("date"),
        url=metadata.get("url"),
        metadata=metadata,
        blocks=out.blocks,
    )
