"""What the assistant is doing, for the people running it: indexing progress, ready, reloads.

Lines go to this module's logger at INFO, which the command line shows by default (they never
hold a user's words); /healthz reports the same `Status`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)

# Seconds between progress lines off a terminal: often enough that a log never looks stuck
# (the issue asks for at least one line every 10 s), rarely enough to stay readable.
REPORT_EVERY = 5.0


def plural(count: int, noun: str) -> str:
    """ "1 document", "27 passages"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@dataclass
class Status:
    """Where the assistant is: "starting", "indexing", "ready" or "failed", and what it holds."""

    state: str = "starting"
    documents: int = 0
    passages: int = 0
    # While indexing: passages to embed, and embedded so far.
    to_embed: int = 0
    embedded: int = 0
    reloads: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def ready(self, documents: int, passages: int) -> None:
        self.state, self.documents, self.passages = "ready", documents, passages
        self.to_embed = self.embedded = 0

    def announce(self) -> None:
        """The line a service logs once it answers: "ready: 3 documents, 612 passages, answering"."""
        log.info(
            "ready: %s, %s, answering",
            plural(self.documents, "document"),
            plural(self.passages, "passage"),
        )


class Progress:
    """Counts passages as they are embedded: a bar on a terminal, else a log line every
    REPORT_EVERY seconds with the share done, the rate and the time left."""

    def __init__(self, status: Status, documents: int, total: int, bar: bool) -> None:
        self.status, self.documents, self.total = status, documents, total
        status.to_embed, status.embedded = total, 0
        if status.state != "ready":
            status.state = "indexing"
        self._started = self._reported = time.monotonic()
        self._lock = threading.Lock()
        self._bar: Any = None
        if bar and total >= 64:  # a bar for a few passages would only flicker
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="Embedding passages", unit="passage", leave=False)

    def __call__(self, count: int) -> None:
        with self._lock:
            self.status.embedded += count
            if self._bar is not None:
                self._bar.update(count)
                return
            now = time.monotonic()
            if now - self._reported >= REPORT_EVERY:
                self._reported = now
                self._report(now)

    def _report(self, now: float) -> None:
        done, total = self.status.embedded, self.total
        rate = done / max(now - self._started, 1e-9)
        left = (total - done) / rate if rate > 0 else float("inf")
        log.info(
            "indexing %s: %s of %s embedded (%d%%), %.0f passages/s, about %s left",
            plural(self.documents, "document"),
            f"{done:,}",
            plural(total, "passage"),
            100 * done // max(total, 1),
            rate,
            _duration(left),
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "an unknown time"
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@contextlib.contextmanager
def progress(status: Status, documents: int, total: int, bar: bool) -> Iterator[Progress]:
    reporter = Progress(status, documents, total, bar)
    try:
        yield reporter
    finally:
        reporter.close()
