"""Running a reader that parses a complex format (PDF, Word, HTML) in a process of its own, within
a time and a memory limit: a pathological file (a decompression bomb, a PDF that loops) is then
skipped with a reason instead of hanging indexing or taking the machine's memory, and a crash of
the parser cannot take the assistant with it.

Each worker is a plain `python -m assistant.formats.worker` process that reads jobs one at a
time (the file's bytes in, its text and blocks out) and is kept for the next file, so the parsers
are imported once; one that is too slow is killed, one that crashes is replaced. It answers in
JSON, never a pickle: what a parser of untrusted files sends back is data only.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from assistant.document import Block, Document

# Per file. Measured on the fixtures by tests/test_formats.py's producers: a 500-page PDF reads in
# well under this on one core; a file that takes longer is far more likely to loop than to be a
# policy.
READ_SECONDS = 120.0
READ_MEMORY_MB = 2048  # the parser's own address space, beside the assistant's
MAX_IDLE_WORKERS = 4  # as many as read at once (assistant.documents.READERS_AT_ONCE)


class Refused(ValueError):
    """A reader's own reason for not reading a file ("it is encrypted", "no text layer"): the
    same bytes are always refused the same way, so a refusal is kept like an extraction and a
    restart does not try the file again. Limits (time, memory) and crashes are not refusals:
    they depend on the machine's load as much as on the file."""


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


def read_frame(source: IO[bytes]) -> bytes | None:
    """One length-prefixed frame, or None at the end of the stream."""
    head = source.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "big")
    body = source.read(size)
    if len(body) < size:
        return None
    return body


def write_frame(sink: IO[bytes], body: bytes) -> None:
    sink.write(len(body).to_bytes(8, "big") + body)
    sink.flush()


class _Worker:
    """A `python -m assistant.formats.worker` process that reads one job at a time."""

    def __init__(self, memory_mb: int) -> None:
        root = str(Path(__file__).resolve().parent.parent.parent)  # where `assistant` is
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.memory_mb = memory_mb
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant.formats.worker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # parsers print warnings of their own; reasons come back
            env={**os.environ, "PYTHONPATH": path},
        )

    def read(self, reader: Callable[[Path, bytes], Document], path: Path, data: bytes,
             seconds: float) -> dict[str, Any]:  # fmt: skip
        """The worker's answer, or ValueError: too slow (the worker is killed) or a crash."""
        assert self.process.stdin and self.process.stdout
        job = {"module": reader.__module__, "name": reader.__qualname__, "path": str(path)}
        try:
            write_frame(self.process.stdin, json.dumps(job).encode())
            write_frame(self.process.stdin, data)
        except OSError:
            raise ValueError(self._crash()) from None
        ready, _, _ = select.select([self.process.stdout], [], [], seconds)
        if not ready:
            self.stop()
            raise ValueError(f"it took longer than {seconds:.0f} s to read")
        answer = read_frame(self.process.stdout)
        if answer is None:
            raise ValueError(self._crash())
        parsed: dict[str, Any] = json.loads(answer)
        return parsed

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()

    def _crash(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.stop()
            return "the reader stopped answering"
        self.stop()
        if code < 0:
            return f"the reader stopped with signal {-code}"
        return "the reader stopped without an answer"


class _Workers:
    """Idle workers, kept for the next file: each process imports the parsers once."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def take(self, memory_mb: int) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive() and worker.memory_mb == memory_mb:
                    return worker
                worker.stop()
        return _Worker(memory_mb)

    def give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker.alive() and len(self._idle) < MAX_IDLE_WORKERS:
                self._idle.append(worker)
                return
        worker.stop()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_workers = _Workers()


def read_isolated(
    reader: Callable[[Path, bytes], Document],
    path: Path,
    data: bytes,
    seconds: float | None = None,
    memory_mb: int | None = None,
) -> Document:
    """`reader(path, data)` in a worker process, or ValueError with the reason it gave none: its
    own (Refused), too slow (READ_SECONDS), too much memory (READ_MEMORY_MB), or a crash."""
    seconds = seconds or READ_SECONDS
    memory_mb = memory_mb or READ_MEMORY_MB
    worker = _workers.take(memory_mb)
    answer: dict[str, Any] = {"retiring": True}
    try:
        answer = worker.read(reader, path, data, seconds)
    finally:
        if answer.get("retiring"):  # it ends after this answer (or has already)
            worker.stop()
        else:
            _workers.give_back(worker)
    if "error" in answer:
        raise (Refused if answer.get("refused") else ValueError)(str(answer["error"]))
    return document_from_json(answer["document"], path)
