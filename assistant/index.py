"""The searchable index of a knowledge folder, cached on disk per document and model."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import scipy.sparse

from assistant.cues import passage_cues
from assistant.documents import Document
from assistant.embedding import Embedder, Progress, Vectors
from assistant.passages import Passage, split_passages
from assistant.text import lexical_tokens

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(
    logging.WARNING
)  # it logs every index build at DEBUG, to stderr

# Bump when passage splitting, tokenizing or cues change, so caches made by older code are not
# reused. 5: headings keep their spaces; 6: contractions; 7: table rows; 8: stop words; 9: a
# numbered list item is one passage, not "1." and its text.
PIPELINE_VERSION = 9
# Bump when Index gains or changes attributes: snapshots are then rebuilt from the per-document
# cache, with nothing re-embedded.
SNAPSHOT_LAYOUT = 3  # 3: passages pickled through their constructor (5x faster to load)
SAMPLE_SIZE = 4096  # passages over which a similarity's spread is estimated in large indexes


def default_cache_dir() -> Path:
    """$POLICY_QA_CACHE, else $XDG_CACHE_HOME/policy-qa, else ~/.cache/policy-qa."""
    if explicit := os.environ.get("POLICY_QA_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "policy-qa"


@dataclass
class _Entry:  # mutable: the index takes over its vectors and releases them one by one
    passages: list[Passage]
    tokens: list[list[str]]
    vectors: Vectors
    cues: npt.NDArray[np.bool_]  # passage_cues() of each passage


def _entry(doc: Document, passages: list[Passage], vectors: Vectors) -> _Entry:
    texts = [doc.text[p.start : p.end] for p in passages]
    cues = np.array([passage_cues(t) for t in texts], dtype=bool).reshape(len(texts), -1)
    return _Entry(passages, [lexical_tokens(t) for t in texts], vectors, cues)


class Cache:
    """One file per (document content, model, pipeline version): unchanged documents are never
    re-embedded, whatever their path, and a changed one invalidates only itself."""

    def __init__(self, folder: Path, model_id: str) -> None:
        self.folder = folder / model_id
        self._snapshots = _Snapshots(self.folder, model_id)

    def remove_outdated(self) -> None:
        """Files of an older PIPELINE_VERSION are never read again: without this, every upgrade
        would leave a full copy of the embeddings behind."""
        current = f"-v{PIPELINE_VERSION}.npz"
        for path in self.folder.glob("*-v*.npz"):
            if not path.name.endswith(current):
                with contextlib.suppress(OSError):
                    path.unlink()

    def get_snapshot(self, documents: Sequence[Document]) -> Index | None:
        return self._snapshots.get(documents)

    def put_snapshot(self, index: Index) -> None:
        self._snapshots.put(index)

    def _path(self, doc: Document) -> Path:
        return self.folder / f"{doc.sha256}-v{PIPELINE_VERSION}.npz"

    def get(self, doc: Document) -> _Entry | None:
        path = self._path(doc)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                vectors = data["vectors"].astype(np.float32, copy=False)
                cues = data["cues"].astype(bool)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as e:
            log.warning("Ignoring a damaged cache file %s (%s)", path, e)
            return None
        passages = [Passage(**p) for p in meta["passages"]]
        return _Entry(passages, meta["tokens"], vectors, cues)

    def put(self, doc: Document, entry: _Entry) -> None:
        meta = json.dumps({"passages": [asdict(p) for p in entry.passages], "tokens": entry.tokens})
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, meta=np.array(meta), vectors=entry.vectors, cues=entry.cues)
            os.replace(tmp, self._path(doc))  # atomic: a crash never leaves half a cache file
        except OSError as e:
            log.warning(
                "Could not write the index cache in %s (%s); continuing without it", self.folder, e
            )
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)


class _Snapshots:
    """The whole built index of a large folder in one file, keyed by its documents' contents in
    order: a restart then skips rebuilding the BM25 indexes (about 3 s at 100,000 passages).

    It is a pickle, so it is only ever read from the user's own cache folder, written 0600."""

    MIN_PASSAGES = 20_000  # smaller indexes build in well under a second
    KEEP = 2  # snapshots are large: keep only the most recent few

    def __init__(self, folder: Path, model_id: str) -> None:
        self.folder, self.model_id = folder, model_id

    def _path(self, documents: Sequence[Document]) -> Path:
        key = hashlib.sha256(
            "\n".join(
                [
                    f"{PIPELINE_VERSION}.{SNAPSHOT_LAYOUT}",
                    self.model_id,
                    *(d.sha256 for d in documents),
                ]
            ).encode()
        ).hexdigest()
        return self.folder / f"index-{key}.pickle"

    def get(self, documents: Sequence[Document]) -> Index | None:
        path = self._path(documents)
        try:
            with path.open("rb") as f:
                index = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as e:  # a damaged or outdated snapshot is rebuilt, never fatal
            log.warning("Ignoring the index snapshot %s (%s)", path, e)
            return None
        if not isinstance(index, Index):
            return None
        index.documents = list(documents)
        index.stats = IndexStats(len(documents), len(index), 0)
        os.utime(path)  # recently used: kept by the pruning below
        return index

    def put(self, index: Index) -> None:
        if len(index) < self.MIN_PASSAGES:
            return
        documents, index.documents = index.documents, []
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "wb") as f:
                pickle.dump(index, f, protocol=5)
            os.replace(tmp, self._path(documents))
            tmp = None
            old = sorted(self.folder.glob("index-*.pickle"), key=lambda p: p.stat().st_mtime)
            for stale in old[: -self.KEEP]:
                stale.unlink(missing_ok=True)
        except OSError as e:
            log.warning("Could not write an index snapshot in %s (%s)", self.folder, e)
        finally:
            index.documents = documents
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


@dataclass(frozen=True)
class IndexStats:
    documents: int
    passages: int
    embedded: int  # passages embedded now (the rest came from the cache)


class Index:
    """Passages of all documents with their vectors and lexical tokens, in one flat order."""

    def __init__(self, documents: list[Document], entries: list[_Entry], stats: IndexStats) -> None:
        self.documents = documents
        self.stats = stats
        self.passages: list[Passage] = [p for e in entries for p in e.passages]
        # Lexical tokens are only needed to build the BM25 indexes and the term matrix below.
        tokens: list[list[str]] = [t for e in entries for t in e.tokens]
        self.doc_of: npt.NDArray[np.int32] = np.array(
            [d for d, e in enumerate(entries) for _ in e.passages], dtype=np.int32
        )
        dim = entries[0].vectors.shape[1] if entries and len(entries[0].vectors) else 384
        # Copied into one matrix document by document, each document's copy released at once:
        # peak memory is one matrix, not two.
        self.vectors: Vectors = np.empty((len(self.passages), dim), dtype=np.float32)
        row = 0
        for entry in entries:
            self.vectors[row : row + len(entry.vectors)] = entry.vectors
            row += len(entry.vectors)
            entry.vectors = np.zeros((0, dim), dtype=np.float32)
        # Paragraph ids across the whole index, so neighbours never cross documents.
        keys = [(int(d), p.paragraph) for d, p in zip(self.doc_of, self.passages, strict=True)]
        ids = {key: i for i, key in enumerate(dict.fromkeys(keys))}
        self.paragraph_of: npt.NDArray[np.int32] = np.array([ids[k] for k in keys], dtype=np.int32)
        # Vectors with the corpus's common direction removed: what sets a passage apart from the rest.
        self.centroid: Vectors = (
            self.vectors.mean(axis=0) if len(self.vectors) else np.zeros(dim, dtype=np.float32)
        )
        # |v - centroid| per passage, so similarity after removing the corpus's common direction
        # needs no second copy of the vectors.
        self.centered_norms: npt.NDArray[np.float32] = np.ones(len(self.vectors), dtype=np.float32)
        for begin in range(0, len(self.vectors), 8192):  # in chunks: no second copy of the vectors
            chunk = self.vectors[begin : begin + 8192] - self.centroid
            self.centered_norms[begin : begin + 8192] = np.maximum(
                np.linalg.norm(chunk, axis=1), 1e-6
            )
        # A fixed spread of passage vectors (all of them up to SAMPLE_SIZE), so a similarity's
        # mean and spread over the index cost no pass over every vector.
        n = len(self.vectors)
        self.sample_vectors: Vectors = self.vectors[
            np.linspace(0, n - 1, min(n, SAMPLE_SIZE)).astype(np.int64)
        ]
        # Paragraph-level views: the mean of its sentence vectors, and BM25 over its words.
        # Paragraph p is passages paragraph_starts[p] .. paragraph_starts[p + 1] - 1.
        starts = (
            np.flatnonzero(np.r_[True, self.paragraph_of[1:] != self.paragraph_of[:-1]])
            if self.passages
            else np.zeros(0, dtype=np.int64)
        )
        self.paragraph_starts: npt.NDArray[np.int64] = np.r_[starts, n].astype(np.int64)
        summed = (
            np.add.reduceat(self.vectors, starts, axis=0)
            if self.passages
            else np.zeros((0, dim), np.float32)
        )
        self.paragraph_vectors: Vectors = (
            summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-6)
        ).astype(np.float32)
        self.paragraph_bm25 = bm25s.BM25()
        if self.passages:
            bounds = [*starts.tolist(), len(self.passages)]
            self.paragraph_bm25.index(
                [
                    [t for i in range(a, b) for t in tokens[i]]
                    for a, b in zip(bounds, bounds[1:], strict=False)
                ],
                show_progress=False,
            )
        self.bm25 = bm25s.BM25()
        if self.passages:
            self.bm25.index(tokens, show_progress=False)
        # Which passage holds which term: question-term coverage is one sparse product.
        self.vocabulary: dict[str, int] = {}
        rows, cols = [], []
        for row, passage_tokens in enumerate(tokens):
            for token in set(passage_tokens):
                rows.append(row)
                cols.append(self.vocabulary.setdefault(token, len(self.vocabulary)))
        self.term_matrix = scipy.sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(tokens), max(len(self.vocabulary), 1)),
        )
        self.document_frequency = np.asarray(self.term_matrix.sum(axis=0)).ravel()
        self.cues = (
            np.vstack([e.cues for e in entries if len(e.cues)])
            if self.passages
            else np.zeros((0, 5), dtype=bool)
        )
        self.quoted = np.array([p.quoted for p in self.passages], dtype=bool)
        self.lengths = np.array([p.end - p.start for p in self.passages], dtype=np.float32)
        self.passage_starts = np.array([p.start for p in self.passages], dtype=np.int64)
        self.passage_ends = np.array([p.end for p in self.passages], dtype=np.int64)
        speakers = [p.speaker for p in self.passages]
        same_voice = np.array(
            [a == b for a, b in zip(speakers, speakers[1:], strict=False)], dtype=bool
        )
        same = (self.paragraph_of[1:] == self.paragraph_of[:-1]) & same_voice
        firsts = np.flatnonzero(same).astype(np.int32)
        singles = np.arange(len(self.passages), dtype=np.int32)
        # Candidate quotes: every sentence, and every two adjacent sentences of one paragraph
        # in one voice (a quote has one speaker).
        self.candidate_pairs: npt.NDArray[np.int32] = np.vstack(
            [np.column_stack([singles, singles]), np.column_stack([firsts, firsts + 1])]
        ).astype(np.int32)

    def passages_with(self, token: str) -> int:
        """How many passages contain the lexical token (its document frequency)."""
        column = self.vocabulary.get(token)
        return 0 if column is None else int(self.document_frequency[column])

    def idf(self, token: str) -> float:
        """The token's inverse document frequency here (smoothed; unknown tokens weigh most)."""
        return float(np.log(1 + len(self) / (1 + self.passages_with(token))))

    def term_sum(self, weights: dict[str, float]) -> npt.NDArray[np.float32]:
        """Per passage, the sum of the weights of the lexical tokens it contains."""
        vector = np.zeros(self.term_matrix.shape[1], dtype=np.float32)
        for token, weight in weights.items():
            if (column := self.vocabulary.get(token)) is not None:
                vector[column] = weight
        summed: npt.NDArray[np.float32] = np.asarray(self.term_matrix @ vector)
        return summed

    def __len__(self) -> int:
        return len(self.passages)

    def text(self, i: int) -> str:
        passage = self.passages[i]
        return str(self.documents[self.doc_of[i]].text[passage.start : passage.end])

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        embedder: Embedder,
        cache: Cache | None = None,
        show_progress: bool = False,
    ) -> Index:
        """Split and embed what the cache does not already hold, then assemble the index."""
        if cache and (snapshot := cache.get_snapshot(documents)) is not None:
            return snapshot
        entries: list[_Entry | None] = [cache.get(d) if cache else None for d in documents]
        todo = [i for i, e in enumerate(entries) if e is None]
        if cache and todo:  # after an upgrade every document misses; a warm start skips this
            cache.remove_outdated()
        split = {i: split_passages(documents[i]) for i in todo}
        texts = [documents[i].text[p.start : p.end] for i in todo for p in split[i]]
        if texts:
            log.info("Embedding %d passages of %d documents", len(texts), len(todo))
        with _progress(len(texts), show_progress) as advance:
            vectors = embedder.embed(texts, progress=advance) if texts else None
        offset = 0
        for i in todo:
            count = len(split[i])
            doc_vectors = (
                vectors[offset : offset + count]
                if vectors is not None
                else np.zeros((0, 384), np.float32)
            )
            offset += count
            entry = _entry(documents[i], split[i], doc_vectors)
            entries[i] = entry
            if cache:
                cache.put(documents[i], entry)
        done = [e for e in entries if e is not None]
        stats = IndexStats(len(documents), sum(len(e.passages) for e in done), len(texts))
        index = cls(list(documents), done, stats)
        if cache:
            cache.put_snapshot(index)
        return index


@contextlib.contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Progress | None]:
    if not enabled or total < 64:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc="Embedding passages", unit="passage", leave=False) as bar:
        yield bar.update
