"""Where an assistant's index comes from, and how it is brought up to date: built here from the
knowledge folder (re-reading and re-embedding what changed), or published by an indexer and
loaded read-only (a worker that embeds nothing and picks up each new version)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant.cache import Cache
from assistant.documents import Folder
from assistant.embedding import Embedder
from assistant.index import Index
from assistant.publish import current_version, load_published
from assistant.status import plural

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Update:
    index: Index
    summary: str  # what changed, for the one line a reload logs


class Source(Protocol):
    # Whether a document changed under a quote is indexed again at once (else it is not quoted
    # until the source has a version of it).
    rebuilds: bool
    watched: Path  # the folder whose changes mean an update may be due

    def update(self, current: Index, suspects: Iterable[Path] = ()) -> Update | None:
        """A new index when the source changed since `current`, else None."""
        ...


class FolderSource:
    """The knowledge folder itself: files re-read when their signature changes, documents
    embedded again only when their bytes changed."""

    rebuilds = True

    def __init__(self, folder: Folder, embedder: Embedder, cache: Cache | None) -> None:
        self.folder, self.embedder, self.cache = folder, embedder, cache
        self.watched = folder.root

    def update(self, current: Index, suspects: Iterable[Path] = ()) -> Update | None:
        changes = self.folder.read(suspects)
        if not changes:
            return None
        index = Index.build(changes.documents, self.embedder, self.cache, previous=current)
        if len(index) == 0:  # every document gone or empty: nothing to quote is the truth
            log.warning("The knowledge folder has no readable documents now")
        return Update(index, changes.summary())


class PublishedSource:
    """A version published by `policy-qa index --into DIR`: loaded whole, checked, never built
    here; a newer version replaces it when the indexer publishes one."""

    rebuilds = False

    def __init__(self, into: Path, root: Path, model_id: str, version: str) -> None:
        self.into, self.root, self.model_id, self.version = into, root, model_id, version
        self.watched = into

    def update(self, current: Index, suspects: Iterable[Path] = ()) -> Update | None:
        if current_version(self.into, self.model_id) in (None, self.version):
            return None
        published = load_published(self.into, self.root, self.model_id)
        self.version = published.version
        index = published.index
        summary = f"version {published.version} published ({plural(len(index), 'passage')})"
        return Update(index, summary)
