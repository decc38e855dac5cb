"""A PDF's blocks as quoted text: words broken at a line end joined again, table cells joined."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.document import CODE, HEADER, PARAGRAPH, ROW, Block
from assistant.formats.extracted import CELL_SEPARATOR, TextBuilder, code, inline
from assistant.formats.pdf.layout import LineBlock
from assistant.formats.pdf.lines import Line

# A document set with automatic hyphenation ends this share of its lines with a hyphen (the
# two-column fixture: 69 of 193); one without (Word's and LibreOffice's default) almost none (the
# article: 1 of 56), and there a hyphen at a line's end is the author's, always kept.
_HYPHENATED = 0.05


def block_text(blocks: list[LineBlock], lines: list[Line]) -> TextBuilder:
    """The text of `blocks`, each block with its pages; `lines`: all of the document's lines,
    whose words tell which line-end hyphens to keep."""
    vocabulary = _Vocabulary.of(lines)
    out = TextBuilder()
    header: Block | None = None
    for block in blocks:
        if block.kind in (HEADER, ROW) and block.cells is not None:
            cells = [_joined(cell, vocabulary)[0] for cell in block.cells]
            if block.kind == HEADER:
                header = out.add(HEADER, CELL_SEPARATOR.join(cells), page=block.page) or header
            else:
                out.add(ROW, CELL_SEPARATOR.join(cells), page=block.page, header=header)
            continue
        if block.kind == CODE:
            out.add(CODE, code("\n".join(line.text for line in block.lines)), page=block.page)
            continue
        text, pages = _joined(block.lines, vocabulary)
        if block.kind == PARAGRAPH and len(text) <= 3 and not re.search(r"[^\W\d_]", text):
            continue  # a stray footnote mark or figure number: nothing to quote
        out.add(block.kind, text, level=block.level, page=block.page, pages=pages)
    return out


@dataclass(frozen=True)
class _Vocabulary:
    """The document's words, to tell a hyphenated compound from a word broken at a line end."""

    hyphenated: frozenset[str]
    plain: frozenset[str]
    automatic: bool  # the document was set with automatic hyphenation

    @classmethod
    def of(cls, lines: list[Line]) -> _Vocabulary:
        text = " ".join(line.text for line in lines).lower()
        automatic = sum(line.hyphen for line in lines) > _HYPHENATED * len(lines)
        return cls(
            frozenset(re.findall(r"\w+-\w+", text)), frozenset(re.findall(r"\w+", text)), automatic
        )

    def keeps_hyphen(self, before: str, after: str) -> bool:
        """ "evidence-" + "based": in a document without automatic hyphenation, always; in one
        with it, when the document writes "evidence-based" elsewhere and never "evidencebased".
        Measured on the two-column fixture: 66 of 69 line-end hyphens are the typesetter's
        (dropped), 3 the author's; this gets 67 right, dropping every one 66."""
        if not self.automatic:
            return True
        head = re.search(r"(\w+)$", before)
        tail = re.match(r"\w+", after)
        a, b = (head.group(1) if head else ""), (tail.group(0) if tail else "")
        return f"{a}-{b}".lower() in self.hyphenated and f"{a}{b}".lower() not in self.plain


def _joined(lines: list[Line], vocabulary: _Vocabulary) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A block's lines as one line of text, line-end hyphens resolved, and where each later page
    starts in it."""
    text = ""
    pages: list[tuple[int, int]] = []
    hyphen = False
    for line in lines:
        words = inline(line.text)
        if not words:
            continue
        if hyphen:
            text += "-" if vocabulary.keeps_hyphen(text, words) else ""
        elif text:
            text += " "
        if text and line.page != (pages[-1][1] if pages else lines[0].page):
            pages.append((len(text), line.page))
        text += words
        hyphen = line.hyphen
    if hyphen:
        text += "-"
    return text, tuple(pages)
