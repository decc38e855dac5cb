"""The text a reader extracts from a format that is not plain text (PDF, Word, HTML), and its blocks.

Every such reader lays its text out the same way, so that a citation's offsets can be checked by
anyone against `policy-qa text PATH`: the blocks in reading order, joined by one blank line
("\\n\\n"), each block's text on one line (whitespace collapsed to single spaces) except code,
which keeps its line breaks. A list item's text starts with its rendered label ("2.a) "), and a
table row is its cells joined by " | ". The same file always gives the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.document import CODE, HEADER, PAGE, ROW, Block

CELL_SEPARATOR = " | "
BLOCK_SEPARATOR = "\n\n"

# Characters that carry no text: soft hyphens (a hyphenation hint, invisible unless a line breaks
# there), zero-width spaces, word joiners and byte-order marks. A PDF's generated U+FFFE marks a
# line-end hyphen, which the PDF reader has already dealt with.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff\ufffe\ufffd"), None)
# Typographic ligatures that PDF producers map their glyphs to: "ﬁle" would not match "file".
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st"}
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.translate(_INVISIBLE).translate(_LIGATURES))
    return _CONTROL.sub(" ", text)


def inline(text: str) -> str:
    """A block's text on one line: every run of whitespace (tabs, line breaks, no-break spaces)
    one space, control characters spaces, invisible characters gone, ends trimmed."""
    return _SPACES.sub(" ", _normalise(text)).strip()


def code(text: str) -> str:
    """A code block's text: its line breaks kept, trailing spaces and blank edges trimmed."""
    lines = [line.rstrip() for line in _normalise(text).replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


@dataclass
class TextBuilder:
    """Builds an extracted text block by block, recording each block's offsets as it goes."""

    _parts: list[str] = field(default_factory=list)
    _blocks: list[Block] = field(default_factory=list)
    _length: int = 0

    def add(
        self,
        kind: str,
        text: str,
        level: int = 0,
        page: int | None = None,
        header: Block | None = None,
        pages: tuple[tuple[int, int], ...] = (),
    ) -> Block | None:
        """Append a block (its text already cleaned with `inline` or `code`); None when it is
        empty. `header`: a row's header row, added before it. `pages`: for a block that runs
        onto later pages, (offset within `text`, page) where each of them starts."""
        if not text.strip():
            return None
        start = self._length + (len(BLOCK_SEPARATOR) if self._parts else 0)
        block = Block(
            start,
            start + len(text),
            kind,
            level,
            page,
            (header.start, header.end) if header is not None and kind == ROW else None,
        )
        self._parts.append(text)
        self._blocks.append(block)
        self._length = block.end
        for offset, later in pages:
            if 0 < offset < len(text):
                self._blocks.append(Block(start + offset, start + offset, PAGE, page=later))
        return block

    def add_row(
        self, cells: list[str], header: Block | None, page: int | None = None
    ) -> Block | None:
        """A table row (a HEADER row when `header` is None and it opens its table)."""
        text = CELL_SEPARATOR.join(inline(c) for c in cells)
        if not any(inline(c) for c in cells):
            return None
        return self.add(ROW if header is not None else HEADER, text, page=page, header=header)

    def add_code(self, text: str, page: int | None = None) -> Block | None:
        return self.add(CODE, code(text), page=page)

    @property
    def text(self) -> str:
        return BLOCK_SEPARATOR.join(self._parts)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(self._blocks)

    def __len__(self) -> int:
        return self._length


@dataclass(frozen=True, slots=True)
class Piece:
    """A block before it has offsets: what a reader's walk finds, to filter before laying out."""

    kind: str
    text: str  # already cleaned with `inline` or `code`
    level: int = 0


def build(pieces: Iterable[Piece]) -> TextBuilder:
    """The text of `pieces`, in order; each ROW is under the HEADER before it in its table."""
    out = TextBuilder()
    header: Block | None = None
    for piece in pieces:
        if piece.kind == HEADER:
            header = out.add(HEADER, piece.text) or header
            continue
        if piece.kind != ROW:
            header = None
        out.add(piece.kind, piece.text, level=piece.level, header=header)
    return out
