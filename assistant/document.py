"""What every format's reader returns: a document's text, its metadata and where it came from."""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from assistant.text import printable

# The kinds of block a reader finds. Only paragraphs, list items and table rows are quoted;
# headings name the sections below them, a table's header row goes with each of its rows, and code
# is never quoted. A PAGE block is empty: it marks where a later page starts inside a block that
# runs across a page break (a PDF paragraph continued on the next page), so that each sentence
# of it is cited with its own page.
HEADING, PARAGRAPH, ITEM, ROW, HEADER, CODE, PAGE = (
    "heading",
    "paragraph",
    "item",
    "row",
    "header",
    "code",
    "page",
)
QUOTABLE = frozenset({PARAGRAPH, ITEM, ROW})


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a document's structure: `document.text[start:end]`, in reading order."""

    start: int
    end: int
    kind: str  # one of the kinds above
    level: int = 0  # a heading's level (1 is the highest)
    page: int | None = None  # the page it is on, for paged formats (PDF)
    header: tuple[int, int] | None = None  # a table row's header row, (start, end) in the text


@dataclass(frozen=True)
class Document:
    """One file of the knowledge folder. For plain text and Markdown, `text` is exactly what
    `open(path, encoding="utf-8").read()` returns, so every offset into it is an offset into the
    file as a reader opens it."""

    path: Path
    text: str
    body_start: int
    title: str
    publisher: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None
    # Who speaks in the document's own words (None: an unnamed narrator, as in a news article).
    speaker: str | None = None
    # Who is quoted when the text quotes someone without saying who.
    quote_speaker: str | None = None
    metadata: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Its structure, in reading order: what every extracting reader gives, whatever the format.
    # Empty for plain text and Markdown, whose structure is their markup (formats/markup.py,
    # read when the document is split into passages).
    blocks: tuple[Block, ...] = field(default=(), compare=False, repr=False)
    # SHA-256 of the file's bytes when it was read: the same bytes always give the same text, so
    # a quote is still true to the file while the file still has this digest.
    fingerprint: str = ""

    @property
    def source(self) -> str:
        """Where a quote comes from, as a reader would cite it: publisher, title, author, date."""
        parts = [p for p in (self.publisher, f"“{self.title}”", self.author, self.date) if p]
        return ", ".join(parts)


# A reader turns a file's bytes (already read, within the size limit) into a Document, or raises
# ValueError with the reason it cannot ("it is not UTF-8 text").
Reader = Callable[[Path, bytes], Document]


def extracting(version: int, libraries: tuple[str, ...] = ()) -> Callable[[Reader], Reader]:
    """Marks a reader that parses a complex format (PDF, Word, HTML): it is run in a process of
    its own within time and memory limits, and what it extracts is cached by the file's bytes.
    Bump `version` whenever its output changes, so older extractions are not reused; `libraries`
    names the installed distributions its output depends on (a newer PDFium may lay a page's
    text out differently), whose versions are part of the cache key for the same reason."""

    def mark(reader: Reader) -> Reader:
        setattr(reader, "extraction_version", version)  # noqa: B010 - an attribute of a function
        setattr(reader, "extraction_libraries", libraries)  # noqa: B010
        return reader

    return mark


def extraction_version(reader: Reader) -> int | None:
    version = getattr(reader, "extraction_version", None)
    return version if isinstance(version, int) else None


def extraction_key(reader: Reader) -> str | None:
    """What an extraction by `reader` is kept under, beside the file's digest: its version and
    those of its libraries ("1-pypdfium2-5.15.2"); None for a reader that is not extracting."""
    version = extraction_version(reader)
    if version is None:
        return None
    libraries = getattr(reader, "extraction_libraries", ())
    return "-".join([str(version), *(f"{name}-{_installed(name)}" for name in libraries)])


@cache
def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def title_from_path(path: Path) -> str:
    """A title made of a file's name: "travel_expenses-policy.txt" is "Travel expenses policy"."""
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return printable(words.capitalize() or path.name)


def one_line(value: str) -> str:
    """A metadata value as one printable line: its own line breaks and control characters would
    otherwise break an attribution line in a terminal or a chat message."""
    return printable(" ".join(value.split()))
