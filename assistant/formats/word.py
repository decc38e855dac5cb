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
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from assistant.document import HEADING, ITEM, PARAGRAPH, Block, Document, extracting, one_line
from assistant.document import title_from_path as _title_from_path
from assistant.formats.extracted import TextBuilder, inline

# The parts read (document, styles, numbering, notes, properties) may inflate to this much in all.
# A real policy's document.xml is a few MB (an 8,000-block, 2.2 M-character test file: 13 MB);
# the zip bomb in tests/data/formats/bomb.docx declares 537 MB in a 67 KB file.
MAX_UNZIPPED_BYTES = 100_000_000
_CHUNK = 1 << 20  # parts are inflated 1 MiB at a time, so a lying size header costs no memory

# Transitional (what Word and LibreOffice write) and Strict Open XML spell the namespaces apart.
_WORD_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
)
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CORE = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .doc, or an encrypted .docx

# Word's Symbol and Wingdings bullets are private-use code points (U+F0B7 is Symbol's bullet);
# LibreOffice writes its nested "–" bullets as U+F02D. Shown as they look, not as unprintables.
_SYMBOLS = {
    "\uf0b7": "•", "\uf0a7": "▪", "\uf0d8": "➢", "\uf076": "❖", "\uf0fc": "✓", "\uf02d": "–",
    "\uf06f": "o", "\uf0a8": "•", "\uf0e8": "➔",
}  # fmt: skip
_CODE_STYLE = re.compile(
    r"(?i)^(?:source ?code|html preformatted|preformatted.*|code.*|verbatim.*)$"
)
_TOC_STYLE = re.compile(r"(?i)^toc \d$")  # a table of contents repeats the headings: navigation
# pandoc writes a document's author and date as paragraphs under its title: front matter, which
# becomes the document's metadata rather than quotable text (as a Markdown file's front matter).
_FRONT_MATTER_STYLES = {"author", "date"}
_ROMAN = (
    (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
    (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
)  # fmt: skip
_METADATA_FIELDS = ("title", "publisher", "author", "date", "url", "speaker", "quote_speaker")

_PARSER = etree.XMLParser(
    resolve_entities=False,  # no entity expansion: no "billion laughs", no external entities
    no_network=True,
    load_dtd=False,
    huge_tree=False,  # lxml's own limits on depth and text size stay on
    remove_comments=True,
    remove_pis=True,
)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB"


class _Package:
    """The zip file, read within MAX_UNZIPPED_BYTES, its XML parts parsed safely."""

    def __init__(self, data: bytes) -> None:
        if data.startswith(_OLE_MAGIC):
            raise ValueError(
                "it is encrypted (a password is needed) or an old Word 97-2003 file "
                "(save it as .docx)"
            )
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
            raise ValueError("it is not a Word file (not a zip)") from None
        self.unzipped = 0

    def xml(self, name: str) -> Any | None:
        """The parsed part `name`, or None when the package has none."""
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            return None
        if self.unzipped + info.file_size > MAX_UNZIPPED_BYTES:
            raise ValueError(
                f"its content would be {_megabytes(self.unzipped + info.file_size)} once "
                f"unzipped, over the {_megabytes(MAX_UNZIPPED_BYTES)} limit"
            )
        try:
            raw = self._inflate(info)
            return etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError as e:
            raise ValueError(f"it is damaged ({name} is not well-formed XML: {e})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
            raise ValueError(f"it is damaged ({name}: {e})") from None
        except RuntimeError as e:  # zipfile: "File ... is encrypted, password required"
            raise ValueError(f"it is encrypted or damaged ({e})") from None

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        # zipfile stops at the size the header declares and then checks the CRC, so a header
        # that lies about the size raises BadZipFile here instead of inflating more (measured on
        # a 256 MB bomb declaring 100 kB: 0.08 s, 21 MB).
        chunks: list[bytes] = []
        with self.zip.open(info) as part:
            while chunk := part.read(_CHUNK):
                chunks.append(chunk)
                self.unzipped += len(chunk)
                if self.unzipped > MAX_UNZIPPED_BYTES:
                    raise ValueError(
                        f"its content is over {_megabytes(MAX_UNZIPPED_BYTES)} once unzipped"
                    )
        return b"".join(chunks)

    def relationships(self, part: str) -> dict[str, str]:
        """Relationship type (its last path segment, "styles") -> the target part's name."""
        folder, name = posixpath.split(part)
        rels = self.xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        targets: dict[str, str] = {}
        if rels is None:
            return targets
        for rel in rels.iter(f"{{{_PACKAGE_RELATIONSHIPS}}}Relationship"):
            kind = str(rel.get("Type") or "").rsplit("/", 1)[-1]
            target = str(rel.get("Target") or "")
            if rel.get("TargetMode") == "External" or not target or kind in targets:
                continue
            resolved = (
                target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            )
            targets[kind] = posixpath.normpath(resolved)
        return targets


def _local(element: Any) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _namespace(element: Any) -> str:
    tag = element.tag
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


@dataclass(frozen=True)
class _Level:
    start: int
    format: str  # numFmt: decimal, lowerLetter, upperRoman, bullet, none...
    text: str  # lvlText: "%1.%2)", or the bullet character


def _number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        while n > 0:
            n, rest = divmod(n - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = ""
        for value, digits in _ROMAN:
            while n >= value:
                roman, n = roman + digits, n - value
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


def _bullet(text: str) -> str:
    if text in _SYMBOLS:
        return _SYMBOLS[text]
    if not text or all(0xF000 <= ord(c) <= 0xF0FF for c in text):
        return "•"  # an unknown symbol-font glyph: a bullet is what it shows
    return text


class _Numbering:
    """List labels as Word renders them, from numbering.xml: a counter per list and level, deeper
    levels restarting under a new item, and a list restarted where a w:num overrides its start.
    (Labels are ours, deterministic; Word and LibreOffice themselves disagree in corner cases.)"""

    def __init__(self, root: Any | None, w: str) -> None:
        self.w = w
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.lists: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        if root is None:
            return
        for abstract in root.iter(self._q("abstractNum")):
            levels = {}
            for level in abstract.iter(self._q("lvl")):
                levels[self._int(level.get(self._q("ilvl")), 0)] = _Level(
                    self._int(self._val(level, "start"), 1),
                    self._val(level, "numFmt") or "decimal",
                    self._val(level, "lvlText") or "",
                )
            self.abstract[str(abstract.get(self._q("abstractNumId")))] = levels
        for num in root.iter(self._q("num")):
            overrides = {
                self._int(o.get(self._q("ilvl")), 0): self._int(self._val(o, "startOverride"), 1)
                for o in num.iter(self._q("lvlOverride"))
                if o.find(self._q("startOverride")) is not None
            }
            self.lists[str(num.get(self._q("numId")))] = (
                str(self._val(num, "abstractNumId")),
                overrides,
            )

    def _q(self, tag: str) -> str:
        return f"{{{self.w}}}{tag}"

    def _val(self, element: Any, tag: str) -> str | None:
        child = element.find(self._q(tag))
        return None if child is None else child.get(self._q("val"))

    @staticmethod
    def _int(value: str | None, default: int) -> int:
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def label(self, num_id: str, ilvl: int) -> str | None:
        """The next label of list `num_id` at level `ilvl` ("3.", "2.a)", "•"), or None."""
        if num_id not in self.lists:
            return None
        abstract_id, overrides = self.lists[num_id]
        levels = self.abstract.get(abstract_id, {})
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:  # a w:num that overrides its start restarts the list
            self.started.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
        spec = levels.get(ilvl, _Level(1, "decimal", f"%{ilvl + 1}."))
        counters[ilvl] = counters.get(ilvl, spec.start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if spec.format == "bullet":
            return _bullet(spec.text)
        if spec.format == "none":
            return inline(re.sub(r"%\d", "", spec.text)) or None

        def value(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            given = levels.get(level, _Level(1, "decimal", ""))
            return _number(counters.get(level, given.start), given.format)

        return re.sub(r"%([1-9])", value, spec.text) or None


@dataclass
class _Style:
    name: str
    based_on: str | None
    outline: int | None
    num_id: str | None
    ilvl: int | None


class _Styles:
    def __init__(self, root: Any | None, w: str) -> None:
        self.styles: dict[str, _Style] = {}
        self.default: str | None = None
        if root is None:
            return

        def q(tag: str) -> str:
            return f"{{{w}}}{tag}"

        for style in root.iter(q("style")):
            if style.get(q("type")) not in (None, "paragraph"):
                continue
            sid = str(style.get(q("styleId")))
            name = style.find(q("name"))
            based = style.find(q("basedOn"))
            outline = style.find(f"{q('pPr')}/{q('outlineLvl')}")
            num = style.find(f"{q('pPr')}/{q('numPr')}/{q('numId')}")
            ilvl = style.find(f"{q('pPr')}/{q('numPr')}/{q('ilvl')}")
            self.styles[sid] = _Style(
                str(name.get(q("val"))) if name is not None else sid,
                based.get(q("val")) if based is not None else None,
                _int_or_none(outline.get(q("val"))) if outline is not None else None,
                num.get(q("val")) if num is not None else None,
                _int_or_none(ilvl.get(q("val"))) if ilvl is not None else None,
            )
            if style.get(q("default")) in ("1", "true"):
                self.default = sid

    def chain(self, sid: str | None) -> Iterator[_Style]:
        """The style and those it is based on, nearest first (a loop of basedOn ends)."""
        seen: set[str] = set()
        sid = sid or self.default
        while sid and sid in self.styles and sid not in seen:
            seen.add(sid)
            yield self.styles[sid]
            sid = self.styles[sid].based_on

    def name(self, sid: str | None) -> str:
        style = next(self.chain(sid), None)
        return style.name if style else (sid or "Normal")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class _Paragraph:
    text: str
    boxes: list[Any] = field(default_factory=list)  # w:txbxContent inside it, read after it


class _Walker:
    """Walks w:body in order and adds its blocks to a TextBuilder."""

    def __init__(self, package: _Package, main: str, document: Any) -> None:
        self.w = _namespace(document)
        parts = package.relationships(main)
        folder = posixpath.dirname(main)

        def part(kind: str, default: str) -> Any | None:
            return package.xml(parts.get(kind, posixpath.join(folder, default)))

        self.styles = _Styles(part("styles", "styles.xml"), self.w)
        self.numbering = _Numbering(part("numbering", "numbering.xml"), self.w)
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
            tag, ns = _local(child), _namespace(child)
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
        if char in _SYMBOLS:
            return _SYMBOLS[char]
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
            _int_or_none(outline_el.get(self.q("val")))
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
        ilvl = _int_or_none(ilvl_el.get(self.q("val"))) if ilvl_el is not None else None
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
            tag = _local(child)
            if tag == "p":
                parts.append(self._paragraph(child).text)
            elif tag == "tbl":  # a nested table: its rows, flattened into the cell
                above: dict[int, str] = {}
                for row in self._rows(child):
                    parts.append(" ".join(self._cells(row, above)))
        return " ".join(p for p in parts if p)

    def _rows(self, table: Any) -> list[Any]:
        return [r for r in _content(table, self.w) if _local(r) == "tr"]

    def _cells(self, row: Any, above: dict[int, str]) -> list[str]:
        """A row's cells, one per grid column. A cell merged with the one above it (vMerge)
        repeats that cell's text, as it is seen beside this row; one spanning several columns
        (gridSpan) is followed by empty cells, so the columns stay under their header."""
        before = row.find(f"{self.q('trPr')}/{self.q('gridBefore')}")
        cells = [""] * max(
            0, _int_or_none(before.get(self.q("val"))) or 0 if before is not None else 0
        )
        for cell in (c for c in _content(row, self.w) if _local(c) == "tc"):
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
            width = _int_or_none(span.get(self.q("val"))) if span is not None else None
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
                for cell in (c for c in _content(row, self.w) if _local(c) == "tc"):
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
            tag = _local(child)
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
        if _namespace(child) != w:
            continue
        tag = _local(child)
        if tag in _WRAPPERS:
            yield from _content(child, w)
        elif tag not in ("sdtPr", "sdtEndPr", "del", "moveFrom"):
            yield child


def _properties(package: _Package) -> dict[str, str]:
    """The document's own metadata: docProps/core.xml (title, creator, created, modified) and
    the custom properties pandoc and Word users set (publisher, url, quote_speaker...)."""
    found: dict[str, str] = {}
    core = package.xml("docProps/core.xml")
    if core is not None:
        for key, path in (
            ("title", "dc:title"),
            ("author", "dc:creator"),
            ("created", "dcterms:created"),
            ("modified", "dcterms:modified"),
        ):
            element = core.find(path, _CORE)
            if element is not None and (value := one_line(element.text or "")):
                found[key] = value
    custom = package.xml("docProps/custom.xml")
    if custom is not None:
        for prop in custom.iter(f"{{{_CUSTOM}}}property"):
            name = one_line(str(prop.get("name") or "")).lower()
            value = one_line("".join(prop.itertext()))
            if name and value and not (name == "title" and "title" in found):
                found[name] = value
    return found


def _main_part(package: _Package) -> str:
    parts = package.relationships("")
    if not parts and package.xml("_rels/.rels") is None:
        raise ValueError("it is not a Word file (a zip without a document in it)")
    main = parts.get("officeDocument")
    if main is None:
        raise ValueError("it is not a Word file (a zip without a document in it)")
    return main


def _first_heading(blocks: tuple[Block, ...], text: str) -> str | None:
    headings = [b for b in blocks if b.kind == HEADING]
    best = min(headings, key=lambda b: b.level, default=None)
    first = next((b for b in headings if b.level == 1), best)
    return one_line(text[first.start : first.end]) if first else None


@extracting(version=1, libraries=("lxml",))
def read_docx(path: Path, data: bytes) -> Document:
    """A Word document's text and structure; ValueError when it is not one, is damaged, is
    encrypted, or would inflate past MAX_UNZIPPED_BYTES."""
    package = _Package(data)
    main = _main_part(package)
    document = package.xml(main)
    if (
        document is None
        or _local(document) != "document"
        or _namespace(document) not in (_WORD_NAMESPACES)
    ):
        raise ValueError(f"it is not a Word document (its main part is {main})")
    walker = _Walker(package, main, document)
    body = document.find(walker.q("body"))
    if body is not None:
        walker.walk(body)
    walker.footnotes()
    properties = _properties(package)
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
