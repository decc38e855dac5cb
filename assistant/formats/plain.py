"""Plain text and Markdown, with optional YAML front matter."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import yaml

from assistant.document import Document, one_line, title_from_path
from assistant.formats.markup import first_line_title
from assistant.text import printable

log = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def decode(path: Path, data: bytes) -> str:
    """The text `open(path, encoding="utf-8").read()` gives for these bytes (universal newlines),
    or ValueError when they are not text."""
    if b"\x00" in data:  # anywhere: a NUL after the first few kilobytes is still binary
        raise ValueError("it looks like a binary file (it has NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"it is not UTF-8 text ({e.reason} at byte {e.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = one_line(str(value))
    return text or None


def _front_matter(text: str, path: Path) -> tuple[dict[str, str], int]:
    match = _FRONT_MATTER.match(text.removeprefix("\ufeff"))
    if not match:
        return {}, 0
    offset = len(text) - len(text.removeprefix("\ufeff"))
    try:
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as e:
        log.warning(
            "%s: front matter is not valid YAML (%s); reading it as text", printable(path), e
        )
        return {}, 0
    if not isinstance(data, dict):
        log.warning("%s: front matter is not a mapping; reading it as text", printable(path))
        return {}, 0
    metadata = {str(k).strip().lower(): v for k, v in data.items()}
    return {
        k: t for k, v in metadata.items() if (t := _as_text(v)) is not None
    }, offset + match.end()


def _document(path: Path, data: bytes, markdown: bool) -> Document:
    text = decode(path, data)
    metadata, body_start = _front_matter(text, path)
    title = metadata.get("title")
    if not title and markdown:
        heading = _MARKDOWN_TITLE.search(text, body_start)
        title = one_line(heading.group(1)) if heading else None
    elif not title and (first := first_line_title(text, body_start)):
        title = one_line(first)
    return Document(
        path=path,
        text=text,
        body_start=body_start,
        title=title or title_from_path(path),
        publisher=metadata.get("publisher"),
        author=metadata.get("author"),
        date=metadata.get("date"),
        url=metadata.get("url"),
        speaker=metadata.get("speaker"),
        quote_speaker=metadata.get("quote_speaker"),
        metadata=metadata,
        # No blocks: the structure of plain text and Markdown is their markup, which
        # split_passages reads (markup_blocks) only when the document is split. A start on a warm
        # cache reads every file to check it is unchanged and splits none: parsing the markup
        # up front was 0.5 s of a 1.9 s `policy-qa ask` at 100,000 passages (2,857 files).
    )


def read_markdown(path: Path, data: bytes) -> Document:
    """Markdown: the title is the front matter's, else the first "# heading", else the name."""
    return _document(path, data, markdown=True)


def read_text(path: Path, data: bytes) -> Document:
    """Plain text: the title is the front matter's, else its first line when that reads as a
    title ("TRAVEL AND EXPENSES POLICY"), else the file's name."""
    return _document(path, data, markdown=False)
