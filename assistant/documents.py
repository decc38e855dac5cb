"""Reading a knowledge folder: plain text and Markdown, with optional YAML front matter."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import KnowledgeError

log = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Document:
    """One file of the knowledge folder. `text` is exactly what `open(path, encoding="utf-8").read()`
    returns, so every offset into it is an offset into the file as a reader opens it."""

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

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def source(self) -> str:
        """Where a quote comes from, as a reader would cite it: publisher, title, author, date."""
        parts = [p for p in (self.publisher, f"“{self.title}”", self.author, self.date) if p]
        return ", ".join(parts)


Reader = Callable[[Path], Document]


def _text_of(path: Path) -> str:
    with path.open("rb") as raw:
        head = raw.read(_SNIFF_BYTES)
    if b"\x00" in head:
        raise ValueError("it looks like a binary file")
    try:
        # Universal newlines, as the offsets' contract (`open(path, encoding="utf-8").read()`) reads it.
        with path.open(encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as e:
        raise ValueError(f"it is not UTF-8 text ({e.reason} at byte {e.start})") from None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _front_matter(text: str, path: Path) -> tuple[dict[str, str], int]:
    match = _FRONT_MATTER.match(text.removeprefix("\ufeff"))
    if not match:
        return {}, 0
    offset = len(text) - len(text.removeprefix("\ufeff"))
    try:
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as e:
        log.warning("%s: front matter is not valid YAML (%s); reading it as text", path, e)
        return {}, 0
    if not isinstance(data, dict):
        log.warning("%s: front matter is not a mapping; reading it as text", path)
        return {}, 0
    metadata = {str(k).strip().lower(): v for k, v in data.items()}
    return {
        k: t for k, v in metadata.items() if (t := _as_text(v)) is not None
    }, offset + match.end()


def _title_from_path(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


def read_document(path: Path) -> Document:
    """Read a text or Markdown file. Raises ValueError (with the reason) when it cannot be read."""
    text = _text_of(path)
    metadata, body_start = _front_matter(text, path)
    title = metadata.get("title")
    if not title and path.suffix.lower() in {".md", ".markdown"}:
        heading = _MARKDOWN_TITLE.search(text, body_start)
        title = heading.group(1).strip() if heading else None
    return Document(
        path=path,
        text=text,
        body_start=body_start,
        title=title or _title_from_path(path),
        publisher=metadata.get("publisher"),
        author=metadata.get("author"),
        date=metadata.get("date"),
        url=metadata.get("url"),
        speaker=metadata.get("speaker"),
        quote_speaker=metadata.get("quote_speaker"),
        metadata=metadata,
    )


# Add a format by mapping its suffix to a function that returns a Document.
READERS: dict[str, Reader] = {
    ".md": read_document,
    ".markdown": read_document,
    ".txt": read_document,
}


def _candidate_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.git, editor swap files) are not documents
        if path.is_file():
            yield path


def load_documents(folder: Path) -> list[Document]:
    """Every readable document below `folder`, in path order; unreadable files are skipped with a
    warning so one bad file never hides the rest."""
    if not folder.exists():
        raise KnowledgeError(f"The knowledge folder {folder} does not exist.")
    if not folder.is_dir():
        raise KnowledgeError(f"The knowledge folder {folder} is not a folder.")
    documents = []
    for path in _candidate_files(folder):
        reader = READERS.get(path.suffix.lower())
        if reader is None:
            log.warning("Skipped %s: not a supported format (%s)", path, ", ".join(sorted(READERS)))
            continue
        try:
            documents.append(reader(path))
        except (OSError, ValueError) as e:
            log.warning("Skipped %s: %s", path, e)
    if not documents:
        raise KnowledgeError(
            f"The knowledge folder {folder} has no readable documents "
            f"(supported: {', '.join(sorted(READERS))})."
        )
    return documents
