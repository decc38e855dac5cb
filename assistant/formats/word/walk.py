"""A Word document's body walked in document order into blocks: paragraphs, tables, notes."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.document import HEADING, ITEM, PARAGRAPH, Block
from assistant.formats.extracted import TextBuilder, inline
from assistant.formats.word.numbering import SYMBOLS, Numbering
from assistant.formats.word.package import Package, local_name, namespace
from assistant.formats.word.styles import Styles, int_or_none

_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_CODE_STYLE = re.compile(
    r"(?i)^(?:source ?code|html preformatted|preformatted.*|code.*|verbatim.*)$"
)
_TOC_STYLE = re.compile(r"(?i)^toc \d$")  # a table of contents repeats the headings: navigation
# pandoc writes a document's author and date as paragraphs under its title: front matter, which
# becomes the document's metadata rather than quotable text (as a Markdown file's front matter).
_FRONT_MATTER_STYLES = {"author", "date"}


@dataclass
class _Paragraph:
    text: str
    boxes: list[Any] = field(default_factory=list)  # w:txbxContent inside it, read after it


class Walker:
    """Walks w:body in order and adds its blocks to a TextBuilder."""

    def __init__(self, package: Package, main: str, document: Any) -> None:
        self.w = namespace(document)
        parts = package.relationships(main)
        folder = posixpath.dirname(main)

        def part(kind: str, default: str) -> Any | None:
            return package.xml(parts.get(kind, posixpath.join(folder, default)))

        self.styles = Styles(part("styles", "styles.xml"), self.w)
        self.numbering = Numbering(part("numbering", "numbering.xml"), self.w)
        self.notes_xml = {
            "footnote": part("footnotes", "footnotes.xml"),
            "endnote": part("endnotes", "endnotes.xml"),
        }
        self.notes: list[tuple[str, str]] = []  # (footnote|endnote, id), in order of reference
        self.front: dict[str, str] = {}  # author and date paragraphs under the title
        self.out = TextBuilder()

    def q(self, tag: str) -> str:
        return f"{{{self.w}}}{tag}"

    # -- runs ---------------------------------------------------------------------------------
    def _runs(self, element: Any, out: list[str], boxes: list[Any]) -> None:
        """The visible text of a paragraph's content, in order, into `out`."""
        for child in element:
            tag, ns = local_name(child), namespace(child)
            if not tag:
                continue
            if ns == _MC and tag == "AlternateContent":  # the Fallback repeats the Choice
                choice = child.find(f"{{{_MC}}}Choice")
                if choice is not None:
                    self._runs(choice, out, boxes)
            elif ns == _MATH and tag == "t":
                out.append(child.text or "")
            elif ns != self.w:
                self._runs(child, out, boxes)  # drawing wrappers: text boxes lie inside
            elif tag == "t":
                out.append(child.text or "")
            elif tag in ("tab", "ptab"):
                out.append("\t")
            elif tag in ("br", "cr"):
                out.append("\n")
            elif tag == "noBreakHyphen":
                out.append("-")
            elif tag == "sym":
                out.append(self._symbol(child))
            elif tag in ("footnoteReference", "endnoteReference"):
                self.notes.append((tag.removesuffix("Reference"), str(child.get(self.q("id")))))
                out.append(f"[{len(self.notes)}]")
            elif tag == "txbxContent":
                boxes.append(child)
            elif tag not in _INVISIBLE_TAGS:
                self._runs(child, out, boxes)  # r, hyperlink, ins, moveTo, smartTag, fldSimple...

    def _symbol(self, sym: Any) -> str:
        try:
            char = chr(int(str(sym.get(self.q("char"))), 16))
        except (ValueError, OverflowError):  # not a code point: nothing to show
            return ""
        if char in SYMBOLS:
            return SYMBOLS[char]
        return "" if 0xF000 <= ord(char) <= 0xF0FF else char

    def _paragraph(self, p: Any) -> _Paragraph:
        out: list[str] = []
        boxes: list[Any] = []
        self._runs(p, out, boxes)
        return _Paragraph(inline("".join(out)), boxes)

    # -- blocks -------------------------------------------------------------------------------
    def _properties(self, p: Any) -> tuple[str | None, int | None, str | None, int]:
        """A paragraph's style id, outline level, list id and list level (direct, else its
        style's)."""
        ppr = p.find(self.q("pPr"))
        style_el = ppr.find(self.q("pStyle")) if ppr is not None else None
        sid = style_el.get(self.q("val")) if style_el is not None else None
        chain = list(self.styles.chain(sid))
        outline_el = ppr.find(self.q("outlineLvl")) if ppr is not None else None
        outline = (
            int_or_none(outline_el.get(self.q("val")))
            if outline_el is not None
            else next((s.outline for s in chain if s.outline is not None), None)
        )
        numpr = ppr.find(self.q("numPr")) if ppr is not None else None
        num_el = numpr.find(self.q("numId")) if numpr is not None else None
        ilvl_el = numpr.find(self.q("ilvl")) if numpr is not None else None
        num_id = (
            num_el.get(self.q("val"))
            if num_el is not None
            else next((s.num_id for s in chain if s.num_id is not None), None)
        )
        ilvl = int_or_none(ilvl_el.get(self.q("val"))) if ilvl_el is not None else None
        if ilvl is None:
            ilvl = next((s.ilvl for s in chain if s.ilvl is not None), 0)
        return sid, outline, num_id, ilvl

    def paragraph(self, p: Any) -> None:
        paragraph = self._paragraph(p)
        sid, outline, num_id, ilvl = self._properties(p)
        name = self.styles.name(sid)
        label = self.numbering.label(num_id, ilvl) if num_id and num_id != "0" else None
        text = paragraph.text
        if _TOC_STYLE.match(name):
            return
        if name.lower() in _FRONT_MATTER_STYLES and text and not self.out.blocks[1:]:
            self.front.setdefault(name.lower(), text)  # right under the title, if any
        elif not text:
            pass
        elif name.lower() == "title":
            self.out.add(HEADING, text, level=1)
        elif outline is not None and 0 <= outline < 9:
            self.out.add(HEADING, f"{label} {text}" if label else text, level=outline + 1)
        elif _CODE_STYLE.match(name):
            self.out.add_code(self._code_text(p))
        elif label:
            self.out.add(ITEM, f"{label} {text}", level=ilvl)
        else:
            self.out.add(PARAGRAPH, text)
        for box in paragraph.boxes:
            for inner in box.iter(self.q("p")):
                self.out.add(PARAGRAPH, self._paragraph(inner).text)

    def _code_text(self, p: Any) -> str:
        out: list[str] = []
        self._runs(p, out, [])
        return "".join(out)

    def _cell_text(self, cell: Any) -> str:
        parts: list[str] = []
        for child in _content(cell, self.w):
            tag = local_name(child)
            if tag == "p":
                parts.append(self._paragraph(child).text)
            elif tag == "tbl":  # a nested table: its rows, flattened into the cell
                above: dict[int, str] = {}
                for row in self._rows(child):
                    parts.append(" ".join(self._cells(row, above)))
        return " ".join(p for p in parts if p)

    def _rows(self, table: Any) -> list[Any]:
        return [r for r in _content(table, self.w) if local_name(r) == "tr"]

    def _cells(self, row: Any, above: dict[int, str]) -> list[str]:
        """A row's cells, one per grid column. A cell merged with the one above it (vMerge)
        repeats that cell's text, as it is seen beside this row; one spanning several columns
        (gridSpan) is followed by empty cells, so the columns stay under their header."""
        before = row.find(f"{self.q('trPr')}/{self.q('gridBefore')}")
        cells = [""] * max(
            0, int_or_none(before.get(self.q("val"))) or 0 if before is not None else 0
        )
        for cell in (c for c in _content(row, self.w) if local_name(c) == "tc"):
            merge = cell.find(f"{self.q('tcPr')}/{self.q('vMerge')}")
            continued = merge is not None and merge.get(self.q("val"), "continue") == "continue"
            column = len(cells)
            text = above.get(column, "") if continued else self._cell_text(cell)
            if merge is not None:
                above[column] = text
            else:
                above.pop(column, None)
            cells.append(text)
            span = cell.find(f"{self.q('tcPr')}/{self.q('gridSpan')}")
            width = int_or_none(span.get(self.q("val"))) if span is not None else None
            cells += [""] * max(0, (width or 1) - 1)
        return cells

    def table(self, table: Any) -> None:
        rows = self._rows(table)
        above: dict[int, str] = {}
        cells = [self._cells(row, above) for row in rows]
        if len(rows) < 2 or max(len(c) for c in cells) < 2:
            # A one-row or one-column table is a box around text (a callout, a layout grid),
            # not data with a header: its paragraphs are read as the body's are.
            for row in rows:
                for cell in (c for c in _content(row, self.w) if local_name(c) == "tc"):
                    self.walk(cell)
            return
        marked = [r.find(f"{self.q('trPr')}/{self.q('tblHeader')}") is not None for r in rows]
        # The leading rows marked as repeated header rows, else the first row, head the table.
        heads = next((i for i, m in enumerate(marked) if not m), len(rows)) or 1
        header: Block | None = None
        for i, row in enumerate(cells):
            if i < heads:
                header = self.out.add_row(row, None) or header
            else:
                self.out.add_row(row, header)

    def walk(self, parent: Any) -> None:
        for child in _content(parent, self.w):
            tag = local_name(child)
            if tag == "p":
                self.paragraph(child)
            elif tag == "tbl":
                self.table(child)

    def footnotes(self) -> None:
        """The notes referenced in the text, in order, each after its number ("[1] ...")."""
        for number, (kind, note_id) in enumerate(self.notes, 1):
            root = self.notes_xml.get(kind)
            if root is None:
                continue
            for note in root.iter(self.q(kind)):
                if note.get(self.q("id")) == note_id:
                    words = " ".join(self._paragraph(p).text for p in note.iter(self.q("p")))
                    self.out.add(PARAGRAPH, inline(f"[{number}] {words}"))
                    break


# Deleted text, field codes, properties and comment marks: nothing a reader sees.
_INVISIBLE_TAGS = frozenset(
    {"delText", "instrText", "del", "moveFrom", "rPr", "pPr", "fldData", "commentReference",
     "footnoteRef", "endnoteRef", "separator", "continuationSeparator", "annotationRef"}
)  # fmt: skip
# Containers whose children are read as if they stood where the container is.
_WRAPPERS = frozenset({"sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag"})


def _content(parent: Any, w: str) -> Iterator[Any]:
    """The children of `parent` in order, with content controls, custom XML and tracked
    insertions opened up (python-docx skips what is inside them)."""
    for child in parent:
        if namespace(child) != w:
            continue
        tag = local_name(child)
        if tag in _WRAPPERS:
            yield from _content(child, w)
        elif tag not in ("sdtPr", "sdtEndPr", "del", "moveFrom"):
            yield child
