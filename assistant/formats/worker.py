"""`python -m assistant.formats.worker MEMORY_MB`: reads documents for the assistant, one job at a
time, in a process of its own (see assistant/formats/isolation.py for the protocol and why).

A plain subprocess, not a multiprocessing child: multiprocessing imports the caller's main module
again in every child, which runs a script that lacks `if __name__ == "__main__"` a second time."""

from __future__ import annotations

import importlib
import json
import resource
import sys
from pathlib import Path
from typing import IO, Any

from assistant.formats.isolation import document_as_json, read_frame, write_frame


def _reader(module: str, name: str) -> Any:
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def _answer(job: dict[str, Any], data: bytes, memory_mb: int) -> tuple[dict[str, Any], bool]:
    """The answer to one job, and whether this process should end after it."""
    try:
        reader = _reader(str(job["module"]), str(job["name"]))
        document = reader(Path(str(job["path"])), data)
        return {"document": document_as_json(document)}, False
    except MemoryError:
        # The heap may be left in pieces: a fresh process reads the next file.
        return {"error": f"it needs more than {memory_mb:,} MB to read"}, True
    except ValueError as e:  # the reader's own reason ("it is encrypted"): a refusal
        return {"error": str(e), "refused": True}, False
    except OSError as e:
        return {"error": str(e)}, False
    except Exception as e:  # a parser's own bug on this file: say what, not a traceback
        return {"error": f"the reader failed ({type(e).__name__}: {e})"}, False


def serve(source: IO[bytes], sink: IO[bytes], memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import assistant.formats  # noqa: F401 - the parsers, imported once for every job

    while (header := read_frame(source)) is not None:
        data = read_frame(source) or b""
        answer, end = _answer(json.loads(header), data, memory_mb)
        write_frame(sink, json.dumps({**answer, "retiring": end}).encode())
        if end:
            return


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer, int(sys.argv[1]))
