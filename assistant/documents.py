"""Reading a knowledge folder: which files are documents, within what limits, and what changed."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Protocol

from assistant.document import Document, Reader, extraction_key, title_from_path
from assistant.errors import ConfigurationError, KnowledgeError
from assistant.formats import READERS
from assistant.formats.isolation import (
    Refused,
    document_as_json,
    document_from_json,
    read_isolated,
)
from assistant.status import REPORT_EVERY
from assistant.text import printable

__all__ = [
    "READERS",
    "Document",
    "Folder",
    "Reader",
    "knowledge_files",
    "load_documents",
    "max_file_bytes",
    "read_document",
    "title_from_path",
]

log = logging.getLogger(__name__)
log_status = logging.getLogger("assistant.status")  # shown by default: progress of long reads

READERS_AT_ONCE = max(2, min(4, os.cpu_count() or 1))

# A policy of 20 MB is already about 3,000 pages of text; past that a file is far more likely a
# log or a data dump, and would take hours to embed (a 200 MB file made 1.9 million passages).
DEFAULT_MAX_FILE_MB = 20.0
# A format's extracted text may be larger than its file (a compressed Word or PDF file): up to
# this many times the file limit, in characters; more means a decompression bomb, not a policy.
EXTRACTED_TEXT_FACTOR = 5


def max_file_bytes(megabytes: float | None = None) -> int:
    """`megabytes`, else $POLICY_QA_MAX_FILE_MB, else DEFAULT_MAX_FILE_MB, in bytes: larger
    files are skipped with a warning."""
    if megabytes is None:
        raw = os.environ.get("POLICY_QA_MAX_FILE_MB", "").strip()
        try:
            megabytes = float(raw) if raw else DEFAULT_MAX_FILE_MB
        except ValueError:
            megabytes = float("nan")
        if not megabytes > 0 or megabytes == float("inf"):
            raise ConfigurationError(
                f"POLICY_QA_MAX_FILE_MB must be a number of megabytes above 0, not {raw!r}."
            )
    return int(megabytes * 1_000_000)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def knowledge_files(root: Path) -> list[Path]:
    """Every file below `root` that may be a document, in path order: hidden files and folders
    are left out, and so are links that lead outside `root` (a link to /etc/passwd is not a
    policy) and links to folders (their files are read where they are, and a loop cannot start).
    The walk keeps its own stack, so no depth of folders can exhaust Python's recursion, and a
    folder it cannot read is skipped with a warning."""
    root = root.resolve()
    files: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                found = list(entries)
        except OSError as e:
            log.warning("Skipped the folder %s: %s", printable(folder), e.strerror or e)
            continue
        for entry in found:
            if entry.name.startswith("."):
                continue  # hidden files and folders (.git, editor swap files) are not documents
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = path.resolve(strict=True)
                    if not _inside(target, root):
                        log.warning(
                            "Skipped %s: it links to %s, outside the knowledge folder",
                            printable(path),
                            printable(target),
                        )
                    elif target.is_file():
                        files.append(path)
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                elif entry.is_file(follow_symlinks=False):
                    files.append(path)
                # Anything else (a pipe, a socket, a device) is not a document; reading a pipe
                # would wait forever.
            except (OSError, RuntimeError) as e:  # a broken link, or a loop of links
                log.warning("Skipped %s: %s", printable(path), getattr(e, "strerror", None) or e)
    return sorted(files)


def _open_target(path: Path, root: Path) -> Path:
    """The file to open for `path`: itself, or where its link leads when that is inside `root`."""
    if not path.is_symlink():
        return path
    target = path.resolve(strict=True)
    if not _inside(target, root.resolve()):
        raise ValueError(f"it links to {printable(target)}, outside the knowledge folder")
    return target


def read_bytes(path: Path, root: Path, max_bytes: int) -> bytes:
    """The bytes of a document file, or ValueError (or OSError) with the reason it is not read:
    too large, a link leading outside `root`, not a regular file."""
    target = _open_target(path, root)
    # O_NOFOLLOW: a file swapped for a link after the walk checked it is not followed.
    fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(_too_large(info.st_size, max_bytes))
        data = f.read(max_bytes + 1)  # a file that grew since fstat is still cut off here
    if len(data) > max_bytes:
        raise ValueError(_too_large(len(data), max_bytes))
    return data


def _too_large(size: int, max_bytes: int) -> str:
    return (
        f"it is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit "
        "(POLICY_QA_MAX_FILE_MB raises it)"
    )


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Extractions(Protocol):
    """Where extracted documents are kept by their file's bytes (the index cache)."""

    def get_extracted(self, fingerprint: str, key: str) -> str | None: ...

    def put_extracted(self, fingerprint: str, key: str, extracted: str) -> None: ...


def read_document(
    path: Path,
    root: Path | None = None,
    max_bytes: int | None = None,
    extractions: Extractions | None = None,
) -> Document:
    """Read one file with the reader for its suffix. Raises ValueError (or OSError), with the
    reason, when it cannot be read. A format that needs extracting is read in a process of its
    own, within limits, and its extraction kept in `extractions`."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"not a supported format ({', '.join(sorted(READERS))})")
    limit = max_bytes if max_bytes is not None else max_file_bytes()
    data = read_bytes(path, root or path.parent, limit)
    digest = fingerprint(data)
    version = extraction_key(reader)
    if version is None:
        return replace(reader(path, data), fingerprint=digest)
    key = f"{path.suffix.lower().lstrip('.')}{version}"
    if extractions and (kept := extractions.get_extracted(digest, key)):
        if refusal := _refusal(kept):
            raise ValueError(refusal)  # refused before, for these very bytes: not parsed again
        try:
            return replace(document_from_json(kept, path), fingerprint=digest)
        except (ValueError, KeyError, TypeError):
            pass  # a damaged extraction is made again
    try:
        document = read_isolated(reader, path, data)
    except Refused as e:
        if extractions:
            extractions.put_extracted(digest, key, json.dumps({_REFUSED: str(e)}))
        raise
    if len(document.text) > EXTRACTED_TEXT_FACTOR * limit:
        raise ValueError(
            f"its text is {_megabytes(len(document.text))} once extracted, more than "
            f"{EXTRACTED_TEXT_FACTOR} times the file limit (POLICY_QA_MAX_FILE_MB)"
        )
    document = replace(document, path=path, fingerprint=digest)
    if extractions:
        extractions.put_extracted(digest, key, document_as_json(document))
    return document


_REFUSED = "refused"


def _refusal(kept: str) -> str | None:
    """The reason kept for bytes a reader refused, or None when `kept` is an extraction."""
    if not kept.startswith(f'{{"{_REFUSED}": '):
        return None
    try:
        data = json.loads(kept)
    except ValueError:
        return None
    refused = data.get(_REFUSED) if isinstance(data, dict) else None
    return str(refused) if isinstance(refused, str) and refused else None


# What a file looked like when it was last read: size, modification and change times, inode.
# The change time cannot be set back by a user (touch -r sets only the others), so an edit always
# changes the signature on file systems with fine-grained times.
Signature = tuple[int, int, int, int]


def _signature(path: Path) -> Signature | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


@dataclass(frozen=True)
class Changes:
    documents: list[Document]  # every readable document, in path order
    added: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        """ "changed leave.md; added travel.md" for the log."""
        parts = [
            f"{what} {', '.join(printable(p.name) for p in paths[:5])}"
            + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
            for what, paths in (
                ("added", self.added),
                ("changed", self.changed),
                ("removed", self.removed),
            )
            if paths
        ]
        return "; ".join(parts)


def _extracted(path: Path) -> bool:
    """Whether the file's format is read in a process of its own (read_document)."""
    reader = READERS.get(path.suffix.lower())
    return reader is not None and extraction_key(reader) is not None


def _reporting(documents: Iterator[Document | None], total: int) -> Iterator[Document | None]:
    """The documents as they are read, with a status line every few seconds while it lasts."""
    started = reported = time.monotonic()
    for done, document in enumerate(documents, 1):
        now = time.monotonic()
        if now - reported >= REPORT_EVERY and done < total:
            reported = now
            log_status.info(
                "reading documents: %s of %s read, %.1f files/s",
                f"{done:,}",
                f"{total:,}",
                done / (now - started),
            )
        yield document


class Folder:
    """A knowledge folder as last read. `read()` reads again only the files whose signature
    changed (and any named as suspect), and warns about a file it skips once per version of it."""

    def __init__(
        self,
        root: Path,
        max_bytes: int | None = None,
        known: Iterable[Document] = (),
        extractions: Extractions | None = None,
    ) -> None:
        """`known`: documents already read from it (their files are read again, once, to learn
        their signatures; documents whose bytes are the same count as unchanged)."""
        if not root.exists():
            raise KnowledgeError(f"The knowledge folder {printable(root)} does not exist.")
        if not root.is_dir():
            raise KnowledgeError(f"The knowledge folder {printable(root)} is not a folder.")
        self.root = root.resolve()
        self.max_bytes = max_bytes if max_bytes is not None else max_file_bytes()
        self.extractions = extractions
        # Per file: its signature when read, and its document (None: skipped, already warned).
        self._seen: dict[Path, tuple[Signature | None, Document | None]] = {
            doc.path: (None, doc) for doc in known
        }

    def read(self, suspects: Iterable[Path] = ()) -> Changes:
        """The folder's documents now, and what changed since the last read."""
        again = {Path(p) for p in suspects}
        before = {p: doc for p, (_, doc) in self._seen.items() if doc is not None}
        seen: dict[Path, tuple[Signature | None, Document | None]] = {}
        todo: list[tuple[Path, Signature | None, Document | None]] = []
        for path in knowledge_files(self.root):
            signature = _signature(path)
            known = self._seen.get(path)
            if known and known[0] == signature and signature and path not in again:
                seen[path] = known
            else:
                seen[path] = (signature, None)  # its place in path order, filled in below
                todo.append((path, signature, known[1] if known else None))
        # Files that need extracting (a PDF, a Word file, a web page) are read side by side, each
        # extraction in a process of its own, so two at once use both cores; meanwhile the plain
        # ones are read here, one after another: in threads they only contend for the
        # interpreter (2,857 Markdown files: 0.47 s in turn, 0.97 s in two threads; measured).
        inline: list[tuple[Path, Signature | None, Document | None]] = []
        isolated: list[tuple[Path, Signature | None, Document | None]] = []
        for job in todo:
            (isolated if _extracted(job[0]) else inline).append(job)
        with ThreadPoolExecutor(max_workers=READERS_AT_ONCE) as pool:
            extracted = pool.map(lambda job: self._read(job[0], job[2]), isolated)
            read = chain((self._read(path, known) for path, _, known in inline), extracted)
            for (path, signature, _), document in zip(
                [*inline, *isolated], _reporting(read, len(todo)), strict=True
            ):
                seen[path] = (signature, document)
        self._seen = seen
        after = {p: doc for p, (_, doc) in seen.items() if doc is not None}
        return Changes(
            documents=list(after.values()),
            added=[p for p in after if p not in before],
            changed=[
                p for p in after if p in before and after[p].fingerprint != before[p].fingerprint
            ],
            removed=[p for p in before if p not in after],
        )

    def still_reads(self, doc: Document) -> bool:
        """Whether the file still holds the bytes `doc` was read from (False when it changed,
        is gone, or can no longer be read): a quote from it is then still what the file says."""
        try:
            return fingerprint(read_bytes(doc.path, self.root, self.max_bytes)) == doc.fingerprint
        except (OSError, ValueError):
            return False

    def nothing_readable(self) -> str:
        return (
            f"The knowledge folder {printable(self.root)} has no readable documents "
            f"(supported: {', '.join(sorted(READERS))})."
        )

    def _read(self, path: Path, previous: Document | None) -> Document | None:
        try:
            document = read_document(path, self.root, self.max_bytes, self.extractions)
        except (OSError, ValueError) as e:
            reason = getattr(e, "strerror", None) if isinstance(e, OSError) else None
            log.warning("Skipped %s: %s", printable(path), reason or e)
            return None
        if previous is not None and previous.fingerprint == document.fingerprint:
            return previous  # touched, not changed: the same document, indexed already
        return document


def load_documents(folder: Path, max_bytes: int | None = None) -> list[Document]:
    """Every readable document below `folder`, in path order; unreadable files are skipped with a
    warning so one bad file never hides the rest."""
    reader = Folder(folder, max_bytes)
    documents = reader.read().documents
    if not documents:
        raise KnowledgeError(reader.nothing_readable())
    return documents
