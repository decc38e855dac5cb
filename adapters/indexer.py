"""`policy-qa index`: build the index and say what it holds; with --into DIR, publish it for
workers to load read-only, and with --watch, publish again whenever the documents change."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.publish import publish
from assistant.status import plural
from assistant.text import printable
from assistant.watching import Watcher

log = logging.getLogger("assistant.status")  # shown by default, as every status line


def report(assistant: Assistant) -> None:
    """What was indexed: documents, passages, how many were embedded now, and each document."""
    index = assistant.index
    stats = index.stats
    reused = stats.passages - stats.embedded
    print(
        f"Indexed {plural(stats.documents, 'document')} in {printable(assistant.knowledge_dir)}: "
        f"{plural(stats.passages, 'passage')}; embedded {stats.embedded:,} now, reused "
        f"{reused:,} from the cache."
    )
    counts = np.bincount(index.doc_of, minlength=len(index.documents))
    for doc, count in zip(index.documents, counts.tolist(), strict=True):
        where = printable(doc.path.relative_to(assistant.knowledge_dir))
        print(f"  {where}: {plural(count, 'passage')} — {doc.source}")


def publish_into(assistant: Assistant, into: Path) -> str:
    """Publish the assistant's index now; returns the version (OSError when it cannot)."""
    index = assistant.index
    version = publish(index, assistant.embedder.model_id, assistant.knowledge_dir, into)
    log.info(
        "published version %s in %s: %s, %s",
        version,
        printable(into),
        plural(len(index.documents), "document"),
        plural(len(index), "passage"),
    )
    return version


def follow(assistant: Assistant, into: Path, stop: threading.Event | None = None) -> None:
    """Publish again each time the documents change, until `stop` is set (or forever)."""

    def changed() -> None:
        try:
            if assistant.refresh():
                publish_into(assistant, into)
        except Exception:  # one failed rebuild must not end the indexer
            log.exception("Publishing the changed documents failed; will try on the next change")

    watcher = Watcher(assistant.knowledge_dir, changed)
    watcher.start()
    try:
        (stop or threading.Event()).wait()
    finally:
        watcher.stop()
