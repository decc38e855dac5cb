"""The index cache on disk: one file per document, and a snapshot of each large index.

Nothing read back can run code: every file is NumPy arrays and JSON, read with
`allow_pickle=False`. Nothing read back can stop the assistant or change an answer: every file is
checked when read (keys, dtypes, shapes, counts, offsets, the content it claims to be of) and one
that fails is discarded with one warning and rebuilt. On POSIX the folder is the user's alone
(created 0700): a folder another user owns or can write is refused with a ConfigurationError, and
a file in it that another user owns, or can write, is not trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from assistant.cues import passage_cues
from assistant.document import Document
from assistant.embedding import Vectors
from assistant.errors import ConfigurationError
from assistant.passage_table import END, HEADER_END, HEADER_START, START, PassageTable
from assistant.passages import Passage
from assistant.text import printable

log = logging.getLogger(__name__)

# Bump when passage splitting, tokenizing or cues change, so caches made by older code are not
# reused. 5: headings keep their spaces; 6: contractions; 7: table rows; 8: stop words; 9: a
# numbered list item is one passage, not "1." and its text; 10: keyed by the file's bytes, and
# checked when read; 11: table rows carry their header row, code is never a passage, pages; 12:
# cues for durations, permissions and procedures.
PIPELINE_VERSION = 12
CUES = len(passage_cues(""))  # flags per passage
_POSIX = hasattr(os, "geteuid")


def default_cache_dir() -> Path:
    """$POLICY_QA_CACHE, else $XDG_CACHE_HOME/policy-qa, else ~/.cache/policy-qa."""
    if explicit := os.environ.get("POLICY_QA_CACHE"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "policy-qa"


class DamagedFile(ValueError):
    """A cache file that does not check out; the message says why."""


@dataclass
class Entry:  # mutable: the index takes over its vectors and releases them one by one
    passages: list[Passage]
    tokens: list[list[str]]
    vectors: Vectors
    cues: npt.NDArray[np.bool_]  # passage_cues() of each passage


def check_passages(doc: Document, passages: Sequence[Passage]) -> None:
    """Raises DamagedFile unless every passage of `doc` (and its table header) lies inside the
    document's body, in order."""
    check_passage_table(PassageTable.of(passages), np.zeros(len(passages), np.int32), [doc])


def check_passage_table(
    passages: PassageTable, doc_of: npt.NDArray[np.int32], documents: Sequence[Document]
) -> None:
    """Raises DamagedFile unless every passage (and its table header) lies inside its document's
    body, in order (passage i is of documents[doc_of[i]]; doc_of sorted): every document at once,
    on the columns, as a snapshot of a whole index needs."""
    if not len(passages):
        return
    starts, ends = passages.column(START), passages.column(END)
    body = np.array([d.body_start for d in documents], dtype=np.int64)[doc_of]
    length = np.array([len(d.text) for d in documents], dtype=np.int64)[doc_of]
    opens_document = np.r_[True, doc_of[1:] != doc_of[:-1]]
    previous = np.where(opens_document, body, np.r_[0, starts[:-1]])
    outside = ~((previous <= starts) & (starts < ends) & (ends <= length))
    if outside.any():
        i = int(np.argmax(outside))
        raise DamagedFile(
            f"a passage at {int(starts[i])}-{int(ends[i])} lies outside the document's text"
        )
    h0, h1 = passages.column(HEADER_START), passages.column(HEADER_END)
    misplaced = (h0 >= 0) & ~((body <= h0) & (h0 < h1) & (h1 <= starts))
    if misplaced.any():
        i = int(np.argmax(misplaced))
        header = (int(h0[i]), int(h1[i]))
        raise DamagedFile(f"a table header at {header} lies outside the document's text")


def passage_row(p: Passage) -> list[Any]:
    """A passage as JSON."""
    header = list(p.header) if p.header else None
    return [p.start, p.end, p.paragraph, p.sentence, p.section, p.speaker, p.quoted, p.page, header]


def _passage(row: Any) -> Passage:
    start, end, paragraph, sentence, section, speaker, quoted, page, header = row
    ints = (start, end, paragraph, sentence)
    if not all(type(v) is int for v in ints) or type(quoted) is not bool:
        raise DamagedFile("a passage's fields have the wrong types")
    if not all(v is None or isinstance(v, str) for v in (section, speaker)):
        raise DamagedFile("a passage's section or speaker is not text")
    if not (page is None or type(page) is int) or not (
        header is None
        or (
            isinstance(header, list)
            and len(header) == 2
            and all(type(v) is int and v >= 0 for v in header)  # -1 is "none" in a table
        )
    ):
        raise DamagedFile("a passage's page or table header is malformed")
    return Passage(
        start,
        end,
        paragraph,
        sentence,
        section,
        speaker,
        quoted,
        page,
        tuple(header) if header else None,
    )


def _array(data: Any, key: str, dtype: type, shape: tuple[int | None, ...]) -> npt.NDArray[Any]:
    array = data[key]
    if not is_of(array, dtype) or array.ndim != len(shape):
        raise DamagedFile(f"{key} is {array.dtype} of {array.ndim} dimensions")
    if any(want is not None and got != want for got, want in zip(array.shape, shape, strict=True)):
        raise DamagedFile(f"{key} has shape {array.shape}, not {shape}")
    return np.asarray(array)


def is_of(array: npt.NDArray[Any], dtype: type) -> bool:
    """Whether `array` holds `dtype` (any length, for text)."""
    if dtype is np.str_:
        return array.dtype.kind == "U"
    return bool(array.dtype == np.dtype(dtype))


def check_vectors(vectors: npt.NDArray[Any]) -> None:
    """Raises DamagedFile unless every vector (float32, or float16 in a large index) is finite and
    of unit length; in chunks, so a million vectors need no second copy."""
    for begin in range(0, len(vectors), 8_192):
        chunk = vectors[begin : begin + 8_192].astype(np.float32, copy=False)
        # Squared lengths within 0.998-1.002 (lengths within 0.999-1.001); a value that is not
        # a number fails the comparison too, and is named apart. On every start from a snapshot
        # of 100,000 passages: 85 ms, where isfinite() and norm() took 121 ms (measured). Chunks
        # of 8,192 rows, not 65,536: the float32 copy of a large chunk was the start's peak memory
        # (100,000 passages: 506 -> 386 MB), and small ones check no slower (76 against 86 ms).
        squared = np.einsum("ij,ij->i", chunk, chunk)
        if not ((squared >= 0.998) & (squared <= 1.002)).all():
            if not np.isfinite(chunk).all():
                raise DamagedFile("vectors hold values that are not numbers")
            raise DamagedFile("vectors are not of unit length")


class Cache:
    """One file per (document bytes, model, pipeline version): unchanged documents are never
    re-embedded, whatever their path, and a changed one invalidates only itself."""

    def __init__(self, folder: Path, model_id: str) -> None:
        self.root = folder
        self.folder = folder / model_id
        self.model_id = model_id
        self.writable = _prepare(folder) and _prepare(self.folder)

    def get_extracted(self, fingerprint: str, key: str) -> str | None:
        """A document's extraction kept by `put_extracted` (see assistant.documents), or None."""
        path = self._extracted(fingerprint, key)
        try:
            return self.read_bytes(path).decode("utf-8")
        except FileNotFoundError:
            return None
        except Exception as e:  # untrusted or damaged: extracted again
            self.discard(path, e)
            return None

    def put_extracted(self, fingerprint: str, key: str, extracted: str) -> None:
        path = self._extracted(fingerprint, key)
        if self.writable and _prepare(path.parent):
            self.write_bytes(path, extracted.encode("utf-8"))

    def _extracted(self, fingerprint: str, key: str) -> Path:
        # Beside the model's folder: an extraction is the same whatever model embeds it.
        return self.root / "extracted" / f"{fingerprint}-{key}.json"

    def remove_outdated(self) -> None:
        """Files of an older PIPELINE_VERSION are never read again: without this, every upgrade
        would leave a full copy of the embeddings behind."""
        current = f"-v{PIPELINE_VERSION}.npz"
        for path in self.folder.glob("*-v*.npz"):
            if not path.name.endswith(current):
                with contextlib.suppress(OSError):
                    path.unlink()

    def _path(self, doc: Document) -> Path:
        return self.folder / f"{doc.fingerprint}-v{PIPELINE_VERSION}.npz"

    def get(self, doc: Document) -> Entry | None:
        """The document's cached passages and vectors, or None (missing, or discarded)."""
        path = self._path(doc)
        try:
            with _open_trusted(path) as f, np.load(f, allow_pickle=False) as data:
                return _read_entry(data, doc, self.model_id)
        except FileNotFoundError:
            return None
        except Exception as e:  # anything wrong with a cache file means: rebuild it, never stop
            self.discard(path, e)
            return None

    def put(self, doc: Document, entry: Entry) -> None:
        meta = {
            "fingerprint": doc.fingerprint,
            "pipeline": PIPELINE_VERSION,
            "model": self.model_id,
            "text_length": len(doc.text),
            "passages": [passage_row(p) for p in entry.passages],
            "tokens": entry.tokens,
        }
        self.write(
            self._path(doc),
            meta=np.array(json.dumps(meta)),
            vectors=entry.vectors,
            cues=entry.cues,
        )

    def write(self, path: Path, **arrays: npt.NDArray[Any]) -> bool:
        """Write arrays to `path` atomically, readable by the user only (False if it cannot)."""
        return self._write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))

    def write_bytes(self, path: Path, data: bytes) -> bool:
        """Write `data` to `path` atomically, readable by the user only (False if it cannot)."""
        return self._write(path, lambda f: f.write(data))

    def _write(self, path: Path, fill: Callable[[IO[bytes]], object]) -> bool:
        """Fill a new file beside `path`, then rename it over `path`: a crash never leaves half
        a file. mkstemp creates it 0600. False, with a warning, when it cannot."""
        if not self.writable:
            return False
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                fill(f)
            os.replace(tmp, path)
            tmp = None
            return True
        except OSError as e:
            log.warning(
                "Could not write the index cache in %s (%s); continuing without it",
                printable(path.parent),
                e,
            )
            return False
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def read_bytes(self, path: Path) -> bytes:
        """A trusted file's bytes (FileNotFoundError if absent, DamagedFile if not trusted)."""
        with _open_trusted(path) as f:
            return f.read()

    def read(self, path: Path, sha256: str | None = None) -> contextlib.AbstractContextManager[Any]:
        """The arrays of a trusted cache file (a context manager); FileNotFoundError if absent,
        DamagedFile if not trusted or, given `sha256`, if its bytes do not have that digest."""
        return _read_arrays(path, sha256)

    def discard(self, path: Path, reason: object) -> None:
        log.warning(
            "Discarded the index cache file %s (%s); it will be rebuilt",
            printable(path.name),
            printable(reason) or type(reason).__name__,
        )
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def _read_arrays(path: Path, sha256: str | None = None) -> Iterator[Any]:
    with _open_trusted(path) as f:
        if sha256 is not None:
            found = hashlib.file_digest(f, "sha256").hexdigest()  # in chunks: no copy in memory
            if found != sha256:
                raise DamagedFile(f"{path.name} has not the SHA-256 it should have")
            f.seek(0)
        with np.load(f, allow_pickle=False) as data:
            yield data


def _read_entry(data: Any, doc: Document, model_id: str) -> Entry:
    if set(data.files) != {"meta", "vectors", "cues"}:
        raise DamagedFile(f"it holds {sorted(data.files)}")
    meta = json.loads(str(_array(data, "meta", np.str_, ())))
    if not isinstance(meta, dict):
        raise DamagedFile("its description is not a mapping")
    claimed = (meta.get("fingerprint"), meta.get("pipeline"), meta.get("model"))
    if claimed != (doc.fingerprint, PIPELINE_VERSION, model_id):
        raise DamagedFile("it is not of this document, pipeline and model")
    if meta.get("text_length") != len(doc.text):
        raise DamagedFile("it was made from a text of another length")
    rows, tokens = meta.get("passages"), meta.get("tokens")
    if not isinstance(rows, list) or not isinstance(tokens, list) or len(rows) != len(tokens):
        raise DamagedFile("its passages and tokens do not match")
    if not all(isinstance(r, list) and len(r) == 9 for r in rows):
        raise DamagedFile("a passage has the wrong number of fields")
    passages = [_passage(r) for r in rows]
    if not all(isinstance(t, list) and all(isinstance(w, str) for w in t) for t in tokens):
        raise DamagedFile("its tokens are not lists of words")
    check_passages(doc, passages)
    n = len(passages)
    vectors = _array(data, "vectors", np.float32, (n, None))
    check_vectors(vectors)
    cues = _array(data, "cues", np.bool_, (n, CUES))
    return Entry(passages, tokens, vectors, cues)


def _unsafe(info: os.stat_result) -> str | None:
    """Why a file or folder with this status cannot be trusted, or None."""
    if not _POSIX:
        return None
    if info.st_uid != os.geteuid():
        return f"it belongs to another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"other users can write to it (mode {stat.filemode(info.st_mode)})"
    return None


def _prepare(folder: Path) -> bool:
    """Create `folder` for the user alone; ConfigurationError if it exists and is not safe."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError as e:
        log.warning(
            "Cannot use the index cache folder %s (%s); continuing without a cache",
            printable(folder),
            e.strerror or e,
        )
        return False
    if reason := _unsafe(info):
        raise ConfigurationError(
            f"The index cache folder {printable(folder)} is not safe to read: {reason}. Make it "
            f"yours alone (chmod 700), or set POLICY_QA_CACHE to a folder of your own."
        )
    return True


@contextlib.contextmanager
def _open_trusted(path: Path) -> Iterator[io.BufferedReader]:
    """The file opened for reading, if it is a regular file of the user's that only the user
    can write; DamagedFile (not trusted) otherwise. A link is never followed."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DamagedFile("it is not a regular file")
        if reason := _unsafe(info):
            raise DamagedFile(f"not trusted: {reason}")
        yield f


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
