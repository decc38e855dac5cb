"""A page's lines and words, with their geometry and font; running headers and footers dropped."""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The top and bottom tenth of a page is where running headers, footers and page numbers sit.
_MARGIN = 0.10
# A running line repeats on at least half of the pages (and on two at least).
_REPEATS = 0.5
# ...and is set apart from the body by more than this many body line pitches (a heading that
# opens the body is not; measured pitch 11.5-14 pt, header gaps 25 pt and more on the fixtures).
_APART = 1.6
# A gap between two words wider than this many font sizes separates table cells (justified
# text in the two-column fixture stretches spaces to under 1 font size).
CELL_GAP = 1.5
_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?(?:\d+|[ivxlcdm]+)(?:\s*(?:of|/)\s*\d+)?$|^[-–—]\s*\d+\s*[-–—]$", re.IGNORECASE
)
_MONO = re.compile(r"mono|courier|consol|code", re.IGNORECASE)
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_TYPED_HYPHEN = re.compile(r"[^\W\d_]-\s*$")


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a line (text between spaces) and where it lies across the page."""

    x0: float
    x1: float
    text: str


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    page: int
    x0: float
    x1: float
    top: float  # distances from the top of the page, in points
    bottom: float
    base: float  # the baseline
    size: float
    bold: bool
    mono: bool
    hyphen: bool  # it ends with a hyphen that breaks a word across lines
    words: tuple[Word, ...]
    cells: int  # runs of words between gaps wider than CELL_GAP font sizes: table cells


class _TextPage:
    """The raw PDFium calls the layout needs, for one page's text."""

    def __init__(self, textpage: Any) -> None:
        import pypdfium2.raw as pdfium_c

        self.c = pdfium_c
        self.raw = textpage.raw
        self.box = [ctypes.c_double() for _ in range(4)]
        self.origin = [ctypes.c_double(), ctypes.c_double()]
        self.font = ctypes.create_string_buffer(128)
        self.flags = ctypes.c_int()

    def char_box(self, index: int) -> tuple[float, float, float, float]:
        """left, right, bottom, top of a character."""
        left, right, bottom, top = self.box
        self.c.FPDFText_GetCharBox(self.raw, index, left, right, bottom, top)
        return left.value, right.value, bottom.value, top.value

    def baseline(self, index: int) -> float:
        x, y = self.origin
        self.c.FPDFText_GetCharOrigin(self.raw, index, x, y)
        return y.value

    def size(self, index: int) -> float:
        return float(self.c.FPDFText_GetFontSize(self.raw, index))

    def font_name(self, index: int) -> str:
        self.c.FPDFText_GetFontInfo(self.raw, index, self.font, len(self.font), self.flags)
        return self.font.value.decode("latin-1")

    def is_bold(self, index: int) -> bool:
        weight = int(self.c.FPDFText_GetFontWeight(self.raw, index))
        return weight >= 600 or bool(_BOLD.search(self.font_name(index)))


def page_lines(page: Any, number: int) -> tuple[list[Line], float]:
    """The lines of a page in content-stream order, with their geometry and font.

    PDFium's text of a page separates lines with generated CR LF, and marks a line-end hyphen
    with a generated U+FFFE and no line break: both end a line. Only a few characters of each
    line are asked for their geometry (its first and last visible ones, and those either side of
    each space): asking every character was 4x slower (48 pages/s)."""
    textpage = page.get_textpage()
    try:
        height = float(page.get_height())
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        raw = _TextPage(textpage)
        if len(text) != count:  # characters outside the BMP: one index each, not two
            text = "".join(chr(raw.c.FPDFText_GetUnicode(raw.raw, i)) for i in range(count))
        lines = [
            line
            for match in re.finditer(r"[^\r\n\ufffe]+(\ufffe)?", text)
            if (line := _line(raw, text, match, number, height)) is not None
        ]
    finally:
        textpage.close()
    return lines, height


def _line(raw: _TextPage, text: str, match: re.Match[str], page: int, height: float) -> Line | None:
    hyphen = match.group(1) is not None
    begin, end = match.start(), match.end() - (1 if hyphen else 0)
    chunk = text[begin:end]
    if not chunk.strip():
        return None
    if not hyphen and _TYPED_HYPHEN.search(chunk):
        # A word broken on a page's last line: PDFium flags a line-end hyphen only when a
        # line follows on the same page, so here the hyphen is a character of the text.
        hyphen, chunk = True, chunk.rstrip()[:-1]
    first = begin + len(chunk) - len(chunk.lstrip())
    last = end - 1 - (len(chunk) - len(chunk.rstrip()))
    x0, _, bottom0, top0 = raw.char_box(first)
    _, x1, bottom1, top1 = raw.char_box(last)
    size = raw.size(first)
    words: list[Word] = []
    cells = 1
    start, left = first, x0
    for k in range(first + 1, last):
        if text[k] == " " and text[k - 1] != " " and text[k + 1] != " ":
            before, after = raw.char_box(k - 1), raw.char_box(k + 1)
            words.append(Word(left, before[1], text[start:k].strip()))
            start, left = k + 1, after[0]
            cells += after[0] - before[1] > CELL_GAP * size
    words.append(Word(left, x1, text[start : last + 1].strip()))
    return Line(
        text=chunk.strip(),
        page=page,
        x0=min(x0, x1),
        x1=max(x0, x1),
        top=height - max(top0, top1),
        bottom=height - min(bottom0, bottom1),
        base=height - raw.baseline(first),
        size=round(size, 1),
        bold=raw.is_bold(first) and raw.is_bold(last),
        mono=bool(_MONO.search(raw.font_name(first))),
        hyphen=hyphen,
        words=tuple(words),
        cells=cells,
    )


def modal_pitch(pages: list[list[Line]]) -> float | None:
    """The commonest distance between the baselines of consecutive lines of one column."""
    pitches: Counter[float] = Counter()
    for lines in pages:
        for a, b in zip(lines, lines[1:], strict=False):
            step = b.base - a.base
            if abs(a.x0 - b.x0) < 30 and 0.9 * a.size < step < 3 * a.size:
                pitches[round(step * 2) / 2] += 1
    return pitches.most_common(1)[0][0] if pitches else None


def body_size(lines: Iterator[Line]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _band(lines: list[Line], height: float, apart: float) -> dict[int, str]:
    """The lines of a page that may be running text: in the top or bottom band of the page,
    with a gap of more than `apart` points between them and the body. id(line) -> band."""
    order = sorted(lines, key=lambda line: line.base)
    found: dict[int, str] = {}
    for i, line in enumerate(order):  # from the top down
        if line.bottom >= height * _MARGIN:
            break
        below = order[i + 1].base if i + 1 < len(order) else height
        if below - line.base > apart:
            found.update({id(x): "top" for x in order[: i + 1]})
    for i in range(len(order) - 1, -1, -1):  # from the bottom up
        line = order[i]
        if line.top <= height * (1 - _MARGIN):
            break
        above = order[i - 1].base if i > 0 else 0.0
        if line.base - above > apart:
            found.update({id(x): "bottom" for x in order[i:]})
    return found


def drop_running(pages: list[tuple[list[Line], float]]) -> list[list[Line]]:
    """Each page's lines without its running header, footer and page number."""
    pitch = modal_pitch([lines for lines, _ in pages]) or 14.0
    body = body_size(line for lines, _ in pages for line in lines)
    bands = [_band(lines, height, _APART * pitch) for lines, height in pages]
    # Text set larger than the body is never running text (a heading atop every page is content).
    bands = [
        {key: band for key, band in found.items() if _size_of(lines, key) <= body * 1.05}
        for found, (lines, _) in zip(bands, pages, strict=True)
    ]

    def signature(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())  # "Page 3 of 9" repeats as "page # of #"

    seen: Counter[tuple[str, str]] = Counter()
    for found, (lines, _) in zip(bands, pages, strict=True):
        seen.update({(found[id(x)], signature(x)) for x in lines if id(x) in found})
    need = max(2, int(len(pages) * _REPEATS + 0.5))
    kept: list[list[Line]] = []
    for found, (lines, _) in zip(bands, pages, strict=True):
        kept.append(
            [
                line
                for line in lines
                if not (
                    id(line) in found
                    and (
                        seen[(found[id(line)], signature(line))] >= need
                        or _PAGE_NUMBER.match(line.text)
                    )
                )
            ]
        )
    return kept


def _size_of(lines: list[Line], key: int) -> float:
    return next(line.size for line in lines if id(line) == key)
