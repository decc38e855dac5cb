"""Running a reader that parses a complex format (PDF, Word, HTML) in a process of its own, within
a time and a memory limit: a pathological file (a decompression bomb, a PDF that loops) is then
skipped with a reason instead of hanging indexing or taking the machine's memory, and a crash of
the parser cannot take the assistant with it.

The child answers in JSON (text, blocks, metadata), never a pickle: what a parser of untrusted
files sends back is data only.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import resource
import sys
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from assistant.document import Block, Document

# Per file. Measured on the fixtures by tests/test_formats.py's producers: a 500-page PDF reads in
# well under this on one core; a file that takes longer is far more likely to loop than to be a
# policy.
READ_SECONDS = 120.0
READ_MEMORY_MB = 2048  # the parser's own address space, beside the assistant's


class Refused(ValueError):
    """A reader's own reason for not reading a file ("it is encrypted", "no text layer"): the
    same bytes are always refused the same way, so a refusal is kept like an extraction and a
    restart does not try the file again. Limits (time, memory) and crashes are not refusals:
    they depend on the machine's load as much as on the file."""


def _context() -> BaseContext:
    # forkserver: children are forked from a clean server process, never from the assistant
    # with its model and threads loaded (fork after threads is unsafe); spawn is the fallback.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The readers and their parsers are imported once, in the server, not in every child.
    context.set_forkserver_preload(["assistant.formats"])
    return context


def document_as_json(document: Document) -> str:
    data = asdict(document)
    data["path"] = str(document.path)
    data["blocks"] = [asdict(b) for b in document.blocks]
    return json.dumps(data)


def document_from_json(raw: str, path: Path) -> Document:
    """A Document from a child's (or the extraction cache's) JSON; ValueError when malformed."""
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError("the reader gave no text")
    text = data["text"]
    blocks = []
    for row in data.get("blocks") or []:
        if not isinstance(row, dict):
            raise ValueError("a block is not a mapping")
        header = row.get("header")
        block = Block(
            int(row["start"]),
            int(row["end"]),
            str(row["kind"]),
            int(row.get("level") or 0),
            None if row.get("page") is None else int(row["page"]),
            None if header is None else (int(header[0]), int(header[1])),
        )
        if not 0 <= block.start <= block.end <= len(text):
            raise ValueError("a block lies outside the text")
        blocks.append(block)
    fields = ("title", "publisher", "author", "date", "url", "speaker", "quote_speaker")
    values = {k: data.get(k) for k in fields}
    if not isinstance(values["title"], str) or not all(
        v is None or isinstance(v, str) for v in values.values()
    ):
        raise ValueError("the reader's metadata is not text")
    body_start = int(data.get("body_start") or 0)
    metadata = data.get("metadata") or {}
    return Document(
        path=path,
        text=text,
        body_start=body_start,
        metadata={str(k): str(v) for k, v in metadata.items()},
        blocks=tuple(blocks),
        fingerprint=str(data.get("fingerprint") or ""),
        **values,  # type: ignore[arg-type]
    )


def _child(
    reader: Callable[[Path, bytes], Document],
    path: str,
    data: bytes,
    memory_mb: int,
    connection: multiprocessing.connection.Connection,
) -> None:
    try:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        document = reader(Path(path), data)
        connection.send_bytes(json.dumps({"document": document_as_json(document)}).encode())
    except MemoryError:
        connection.send_bytes(
            json.dumps({"error": f"it needs more than {memory_mb:,} MB to read"}).encode()
        )
    except ValueError as e:
        connection.send_bytes(json.dumps({"error": str(e), "refused": True}).encode())
    except OSError as e:
        connection.send_bytes(json.dumps({"error": str(e)}).encode())
    except Exception as e:  # a parser's own bug on this file: say what, not a traceback
        connection.send_bytes(
            json.dumps({"error": f"the reader failed ({type(e).__name__}: {e})"}).encode()
        )
    finally:
        connection.close()
        sys.stdout.flush()


def read_isolated(
    reader: Callable[[Path, bytes], Document],
    path: Path,
    data: bytes,
    seconds: float | None = None,
    memory_mb: int | None = None,
) -> Document:
    """`reader(path, data)` in a child process, or ValueError with the reason it gave none: its
    own (Refused), too slow (READ_SECONDS), too much memory (READ_MEMORY_MB), or a crash."""
    seconds = seconds or READ_SECONDS
    memory_mb = memory_mb or READ_MEMORY_MB
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(  # type: ignore[attr-defined]
        target=_child, args=(reader, str(path), data, memory_mb, sender), daemon=True
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise ValueError(f"it took longer than {seconds:.0f} s to read")
        try:
            answer = json.loads(receiver.recv_bytes())
        except EOFError:
            raise ValueError(_crash(child)) from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(timeout=5)
    if "error" in answer:
        raise (Refused if answer.get("refused") else ValueError)(str(answer["error"]))
    return document_from_json(answer["document"], path)


def _crash(child: Any) -> str:
    child.join(timeout=5)
    code = child.exitcode
    if code is not None and code < 0:
        return f"the reader stopped with signal {-code}"
    return "the reader stopped without an answer"


def isolation_supported() -> bool:
    return os.name == "posix"
