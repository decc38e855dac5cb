"""A PDF's lines laid out into blocks: paragraphs, headings, list items, code and table rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.document import CODE, HEADER, HEADING, ITEM, PARAGRAPH, ROW
from assistant.formats.extracted import inline
from assistant.formats.pdf.lines import CELL_GAP, Line, Word, modal_pitch

# Table rows: a line more than this many font sizes below the row's lowest line starts the next
# row (measured: wrapped lines in a cell 1.15-1.17, rows 1.47-1.63 apart).
_ROW_GAP = 1.3
# A cell's text may start this many font sizes left of its column, or end past the next column's
# start, and still be in the table (LibreOffice's cell padding is about 0.2).
_COLUMN_TOLERANCE = 0.6
# A heading is set this much larger than the body text, or bold at the body's size.
_HEADING_SIZE = 1.15
_LIST_LABEL = re.compile(
    r"^(?:[•◦▪▫●○■□‣⁃–—*-]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s", re.IGNORECASE
)
_ENDS_SENTENCE = re.compile(r"[.:;?!”\"’)]$")
_NOT_A_HEADING_END = re.compile(r"[.,:;]$")


@dataclass
class LineBlock:
    """A block's lines, before they become the document's text."""

    kind: str
    lines: list[Line]
    flow_break: bool  # it starts a page or a column: a paragraph cut there may go on in it
    level: int = 0
    cells: list[list[Line]] | None = None  # a table row's lines, per column

    @property
    def page(self) -> int:
        return self.lines[0].page


def lay_out(pages: list[list[Line]], body: float) -> list[LineBlock]:
    """The pages' lines, in reading order, as blocks: headings and list levels told, and a
    paragraph that a column or page break cuts in two made one again. `body`: the text's size."""
    blocks = _Layout(modal_pitch(pages), body).read(pages)
    _classify(blocks, body)
    return _merge(blocks)


@dataclass
class _Table:
    """A table being read: its columns' left edges, taken from its first row (its header)."""

    columns: list[float]
    size: float
    header: list[str] = field(default_factory=list)
    row: LineBlock | None = None
    rows: int = 0  # rows read below its header rows

    def column(self, word: Word) -> int | None:
        """The column a word lies in, or None when it is not inside one (it starts left of the
        table, or runs across the next column's edge: a paragraph's line after the table)."""
        leeway = _COLUMN_TOLERANCE * self.size
        if word.x0 < self.columns[0] - leeway:
            return None
        index = max(i for i, x in enumerate(self.columns) if x - leeway <= word.x0 or i == 0)
        if index + 1 < len(self.columns) and word.x1 > self.columns[index + 1] + leeway:
            return None
        return index

    def fits(self, line: Line) -> bool:
        if line.mono or abs(line.size - self.size) > 0.6:
            return False
        return all(self.column(w) is not None for w in line.words)

    def cells(self, line: Line) -> list[str]:
        parts: list[list[str]] = [[] for _ in self.columns]
        for word in line.words:
            index = self.column(word)
            parts[index if index is not None else 0].append(word.text)
        return [inline(" ".join(words)) for words in parts]

    def starts_row(self, line: Line) -> bool:
        if self.row is None or line.page != self.row.page:
            return True
        lowest = max(x.base for x in self.row.lines)
        return line.base - lowest > _ROW_GAP * line.size

    def add(self, line: Line) -> None:
        """The line's words, each into its column's cell of the current row."""
        assert self.row is not None and self.row.cells is not None
        self.row.lines.append(line)
        cells = self.cells(line)
        filled = [i for i, cell in enumerate(cells) if cell]
        for index in filled:
            last = index == filled[-1]  # only the line's end can break a word
            part = replace(line, text=cells[index], hyphen=line.hyphen and last)
            self.row.cells[index].append(part)


class _Layout:
    """Lines, in reading order, grouped into blocks."""

    def __init__(self, pitch: float | None, body: float) -> None:
        self.pitch = pitch or 0.0
        self.body = body
        self.blocks: list[LineBlock] = []
        self.table: _Table | None = None

    def read(self, pages: list[list[Line]]) -> list[LineBlock]:
        for lines in pages:
            previous: Line | None = None
            for line in lines:
                if self.table is not None and self._in_table(line):
                    previous = None
                    continue
                self._close_table()
                if line.cells > 1 and not line.mono and not _LIST_LABEL.match(line.text):
                    self._open_table(line)
                    previous = None
                    continue
                self._text_line(line, previous)
                previous = line
        self._close_table()
        return self.blocks

    def _close_table(self) -> None:
        """A "table" without a row below its first line is a line with a wide gap in it (a
        form's "Name:    Date:"), not a header: its text is a paragraph, quoted as any other."""
        table = self.table
        if table is not None and table.row is not None and table.rows == 0:
            table.row.kind, table.row.cells, table.row.flow_break = PARAGRAPH, None, True
        self.table = None

    def _in_table(self, line: Line) -> bool:
        table = self.table
        assert table is not None
        if not table.fits(line):
            return False
        if table.starts_row(line):
            cells = table.cells(line)
            if sum(bool(cell) for cell in cells) < 2:
                # A row opens with words in two columns at least; a line in the first column
                # alone, set apart from the rows, is a paragraph after the table.
                return False
            kind = HEADER if cells == table.header else ROW
            table.rows += kind == ROW
            table.row = LineBlock(kind, [], flow_break=False, cells=[[] for _ in table.columns])
            self.blocks.append(table.row)
        table.add(line)
        return True

    def _open_table(self, line: Line) -> None:
        columns = [line.words[0].x0]
        for before, word in zip(line.words, line.words[1:], strict=False):
            if word.x0 - before.x1 > CELL_GAP * line.size:
                columns.append(word.x0)
        self.table = _Table(columns, line.size)
        self.table.header = self.table.cells(line)
        self.table.row = LineBlock(HEADER, [], flow_break=False, cells=[[] for _ in columns])
        self.blocks.append(self.table.row)
        self.table.add(line)

    def _text_line(self, line: Line, previous: Line | None) -> None:
        column_break = previous is not None and line.base < previous.base - 1
        item = bool(_LIST_LABEL.match(line.text)) and not line.mono
        new = (
            previous is None
            or column_break
            or item
            or line.base - previous.base
            > max(1.2 * self.pitch, 1.4 * max(line.size, previous.size))
            or line.mono != previous.mono
            or abs(line.size - previous.size) > 0.6
            or line.bold != previous.bold
            or not self.blocks
            or self.blocks[-1].kind in (ROW, HEADER)
        )
        if new:
            kind = CODE if line.mono else ITEM if item else PARAGRAPH
            self.blocks.append(LineBlock(kind, [line], flow_break=previous is None or column_break))
        else:
            self.blocks[-1].lines.append(line)


def _is_heading(block: LineBlock, body: float) -> bool:
    lines = block.lines
    if block.kind != PARAGRAPH or len(lines) > 3 or _NOT_A_HEADING_END.search(lines[-1].text):
        return False
    size = lines[0].size
    return size >= body * _HEADING_SIZE or (lines[0].bold and size >= body * 0.95)


def _classify(blocks: list[LineBlock], body: float) -> None:
    """Headings and their levels (by the rank of their size and weight), list item levels (by
    indentation)."""
    ranks = sorted(
        {(b.lines[0].size, b.lines[0].bold) for b in blocks if _is_heading(b, body)}, reverse=True
    )
    indents = sorted({round(b.lines[0].x0 / 6) for b in blocks if b.kind == ITEM})
    for block in blocks:
        if _is_heading(block, body):
            block.kind = HEADING
            block.level = min(6, ranks.index((block.lines[0].size, block.lines[0].bold)) + 1)
        elif block.kind == ITEM:
            block.level = indents.index(round(block.lines[0].x0 / 6))


def _continues(previous: LineBlock, block: LineBlock) -> bool:
    """Whether `block`, at the top of a column or page, goes on with the paragraph before it:
    that one ended with a hyphen, or without closing its sentence before a lower-case word."""
    if not block.flow_break or block.kind != PARAGRAPH or previous.kind not in (PARAGRAPH, ITEM):
        return False
    last, first = previous.lines[-1], block.lines[0]
    if abs(last.size - first.size) > 0.6 or last.mono:
        return False
    return last.hyphen or (not _ENDS_SENTENCE.search(last.text) and first.text[:1].islower())


def _merge(blocks: list[LineBlock]) -> list[LineBlock]:
    merged: list[LineBlock] = []
    for block in blocks:
        if merged and _continues(merged[-1], block):
            merged[-1].lines += block.lines
        else:
            merged.append(block)
    return merged
