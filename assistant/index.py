"""The searchable index of a knowledge folder: passages, their vectors and lexical indexes."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import numpy.typing as npt
import scipy.sparse

from assistant import ann
from assistant.cache import CUES, Cache, Entry
from assistant.cues import passage_cues
from assistant.documents import Document
from assistant.embedding import Embedder, Vectors
from assistant.passage_table import END, SPEAKER, START, PassageTable
from assistant.passages import Passage, split_passages
from assistant.snapshot import Snapshots
from assistant.status import Status, progress
from assistant.text import lexical_tokens

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(
    logging.WARNING
)  # it logs every index build at DEBUG, to stderr

SAMPLE_SIZE = 4096  # passages over which a similarity's spread is estimated in large indexes


def _entry(doc: Document, passages: list[Passage], vectors: Vectors) -> Entry:
    texts = [doc.text[p.start : p.end] for p in passages]
    cues = np.array([passage_cues(t) for t in texts], dtype=bool).reshape(len(texts), CUES)
    return Entry(passages, [lexical_tokens(t) for t in texts], vectors, cues)


@dataclass
class Parts:
    """What an index is made of, built from documents or read back from a snapshot; the rest of
    the index is computed from these in well under a second."""

    passages: PassageTable
    doc_of: npt.NDArray[np.int32]
    paragraph_of: npt.NDArray[np.int32]  # PassageTable.paragraph_ids: worked out once, by its maker
    vectors: Vectors
    cues: npt.NDArray[np.bool_]
    bm25: bm25s.BM25
    paragraph_bm25: bm25s.BM25
    vocabulary: dict[str, int]  # lexical token -> column of the term matrix
    term_matrix: scipy.sparse.csr_matrix  # which passage holds which token
    nearest: ann.Nearest | None = None  # the graph of a large index's vectors, when read back


def _paragraph_starts(paragraph_of: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    if not len(paragraph_of):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, paragraph_of[1:] != paragraph_of[:-1]]).astype(np.int64)


def _parts(entries: list[Entry]) -> Parts:
    passages = PassageTable.of([p for e in entries for p in e.passages])
    # Lexical tokens are only needed to build the BM25 indexes and the term matrix below.
    tokens: list[list[str]] = [t for e in entries for t in e.tokens]
    doc_of = np.array([d for d, e in enumerate(entries) for _ in e.passages], dtype=np.int32)
    paragraph_of = passages.paragraph_ids(doc_of)
    dim = next((e.vectors.shape[1] for e in entries if len(e.vectors)), 384)
    # Copied into one matrix document by document, each document's copy released at once:
    # peak memory is one matrix, not two.
    vectors: Vectors = np.empty((len(passages), dim), dtype=np.float32)
    row = 0
    for entry in entries:
        vectors[row : row + len(entry.vectors)] = entry.vectors
        row += len(entry.vectors)
        entry.vectors = np.zeros((0, dim), dtype=np.float32)
    cues = (
        np.vstack([e.cues for e in entries if len(e.cues)])
        if len(passages)
        else np.zeros((0, len(passage_cues(""))), dtype=bool)
    )
    paragraph_bm25, bm25 = bm25s.BM25(), bm25s.BM25()
    if len(passages):
        starts = _paragraph_starts(paragraph_of)
        bounds = [*starts.tolist(), len(passages)]
        paragraph_bm25.index(
            [
                [t for i in range(a, b) for t in tokens[i]]
                for a, b in zip(bounds, bounds[1:], strict=False)
            ],
            show_progress=False,
        )
        bm25.index(tokens, show_progress=False)
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for number, passage_tokens in enumerate(tokens):
        # In the order the words come, not a set's: a set's order changes with the interpreter's
        # hash seed, and with it the order the term matrix's products sum in (refits then
        # differed in the fourth decimal from run to run).
        for token in dict.fromkeys(passage_tokens):
            rows.append(number)
            cols.append(vocabulary.setdefault(token, len(vocabulary)))
    term_matrix = scipy.sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(tokens), max(len(vocabulary), 1)),
    )
    return Parts(
        passages, doc_of, paragraph_of, vectors, cues, bm25, paragraph_bm25, vocabulary, term_matrix
    )


def _unit(summed: Vectors) -> Vectors:
    unit: Vectors = (
        summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-6)
    ).astype(np.float32)
    return unit


@dataclass(frozen=True)
class IndexStats:
    documents: int
    passages: int
    embedded: int  # passages embedded now (the rest came from the cache)


class Index:
    """Passages of all documents with their vectors and lexical indexes, in one flat order.

    An index never changes once built: a changed folder gets a new index (see `build`'s
    `previous`), so an answer begun on one finishes on it."""

    def __init__(self, documents: list[Document], parts: Parts, stats: IndexStats) -> None:
        self.documents = documents
        self.stats = stats
        self.passages = parts.passages
        self.doc_of = parts.doc_of
        n = len(self.passages)
        # A large index keeps its vectors as float16 (half the memory: 0.77 GB at a million
        # passages) and searches them through a graph (assistant/ann.py); a small one keeps
        # float32 and scans them all, as it always has.
        self.approximate = n >= ann.THRESHOLD
        self.vectors: Vectors = parts.vectors.astype(
            np.float16 if self.approximate else np.float32, copy=False
        )
        parts.vectors = self.vectors  # the float32 copy, if any, is released now
        self.cues = parts.cues
        self.bm25, self.paragraph_bm25 = parts.bm25, parts.paragraph_bm25
        self.vocabulary, self.term_matrix = parts.vocabulary, parts.term_matrix
        dim = self.vectors.shape[1]
        self.paragraph_of = parts.paragraph_of
        # Vectors with the corpus's common direction removed: what sets a passage apart from the rest.
        self.centroid: Vectors = (
            self.vectors.mean(axis=0, dtype=np.float32)
            if len(self.vectors)
            else np.zeros(dim, dtype=np.float32)
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
        self.sample_vectors: Vectors = self.vectors[
            np.linspace(0, n - 1, min(n, SAMPLE_SIZE)).astype(np.int64)
        ].astype(np.float32)
        # Paragraph-level views: the mean of its sentence vectors (BM25 over its words is
        # paragraph_bm25). Paragraph p is passages paragraph_starts[p] .. paragraph_starts[p + 1] - 1.
        starts = _paragraph_starts(self.paragraph_of)
        self.paragraph_starts: npt.NDArray[np.int64] = np.r_[starts, n].astype(np.int64)
        # A large index works its paragraphs' vectors out when a question needs them
        # (paragraph_vectors_of): kept, they would weigh 0.5 GB at a million passages.
        self.paragraph_vectors: Vectors | None = None
        if not self.approximate:
            summed = (
                np.add.reduceat(self.vectors, starts, axis=0)
                if n
                else np.zeros((0, dim), np.float32)
            )
            self.paragraph_vectors = _unit(summed)
        self.nearest: ann.Nearest | None = None
        if self.approximate:
            self.nearest = parts.nearest
            if self.nearest is None:
                began = time.perf_counter()
                self.nearest = ann.build(self.vectors)
                self.nearest_seconds = time.perf_counter() - began
                log.info(
                    "Built the nearest-neighbour graph of %d passages in %.1f s",
                    n,
                    self.nearest_seconds,
                )
        self.document_frequency = np.asarray(self.term_matrix.sum(axis=0)).ravel()
        self.quoted = self.passages.quoted
        self.passage_starts = self.passages.column(START)
        self.passage_ends = self.passages.column(END)
        self.lengths = (self.passage_ends - self.passage_starts).astype(np.float32)
        speakers = self.passages.column(SPEAKER)  # equal ids are equal speakers (PassageTable)
        same_voice = speakers[1:] == speakers[:-1]
        same = (self.paragraph_of[1:] == self.paragraph_of[:-1]) & same_voice
        # Whether passage i and i + 1 may be quoted together (see candidate_pairs_in).
        self.pairs_with_next = np.r_[same, False].astype(bool)
        firsts = np.flatnonzero(same).astype(np.int32)
        singles = np.arange(len(self.passages), dtype=np.int32)
        # Candidate quotes: every sentence, and every two adjacent sentences of one paragraph
        # in one voice (a quote has one speaker).
        self.candidate_pairs: npt.NDArray[np.int32] = np.vstack(
            [np.column_stack([singles, singles]), np.column_stack([firsts, firsts + 1])]
        ).astype(np.int32)

    def candidate_pairs_in(self, rows: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        """The candidate quotes within the sorted passages `rows`: candidate_pairs of which both
        ends are in `rows`, in the same order, without a pass over every candidate."""
        follows = rows[:-1][(rows[1:] == rows[:-1] + 1) & self.pairs_with_next[rows[:-1]]]
        return np.vstack(
            [np.column_stack([rows, rows]), np.column_stack([follows, follows + 1])]
        ).astype(np.int32)

    def paragraph_scope(
        self, paragraphs: npt.NDArray[np.int32]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The passages of these paragraphs (ids, repeats allowed), each distinct paragraph once
        and in order; where each of those begins in that list; and, per id given, its distinct
        paragraph's number. No pass over every passage."""
        wanted, where = np.unique(paragraphs, return_inverse=True)
        first = self.paragraph_starts[wanted]
        lengths = self.paragraph_starts[wanted + 1] - first
        local = np.cumsum(lengths) - lengths
        # The ranges first .. first + length - 1, concatenated without a Python loop.
        scope = np.arange(int(lengths.sum())) + np.repeat(first - local, lengths)
        return scope, local, where.ravel()

    def paragraph_vectors_of(self, paragraphs: npt.NDArray[np.int32]) -> Vectors:
        """The unit mean vectors of these paragraphs' sentences."""
        if self.paragraph_vectors is not None:
            return self.paragraph_vectors[paragraphs]
        scope, local, where = self.paragraph_scope(paragraphs)
        summed = np.add.reduceat(self.vectors[scope].astype(np.float32), local, axis=0)
        unit: Vectors = _unit(summed)[where]
        return unit

    def term_sum_at(
        self, weights: dict[str, float], rows: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.float32]:
        """term_sum for the passages `rows` only."""
        summed: npt.NDArray[np.float32] = np.asarray(
            self.term_matrix[rows] @ self._term_vector(weights)
        )
        return summed

    def term_sum_max(self, weights: dict[str, float]) -> float:
        """The largest term_sum over every passage, from the BM25 index's lists of the passages
        that hold each token: no pass over every passage's tokens. One bincount over all the
        lists (at a million passages, 2 million entries a question: 6.1 ms, where adding each
        list in turn took 9.9 ms; measured)."""
        scores = self.bm25.scores
        indptr, indices = scores["indptr"], scores["indices"]
        columns = [
            (c, w) for t, w in weights.items() if (c := self.bm25.vocab_dict.get(t)) is not None
        ]
        if not columns:
            return 0.0
        lists = [indices[indptr[c] : indptr[c + 1]] for c, _ in columns]
        each = np.repeat([w for _, w in columns], [len(held) for held in lists])
        total = np.bincount(np.concatenate(lists), weights=each, minlength=len(self))
        return float(total.max(initial=0.0))

    def _term_vector(self, weights: dict[str, float]) -> npt.NDArray[np.float32]:
        vector = np.zeros(self.term_matrix.shape[1], dtype=np.float32)
        for token, weight in weights.items():
            if (column := self.vocabulary.get(token)) is not None:
                vector[column] = weight
        return vector

    def passages_with(self, token: str) -> int:
        """How many passages contain the lexical token (its document frequency)."""
        column = self.vocabulary.get(token)
        return 0 if column is None else int(self.document_frequency[column])

    def idf(self, token: str) -> float:
        """The token's inverse document frequency here (smoothed; unknown tokens weigh most)."""
        return float(np.log(1 + len(self) / (1 + self.passages_with(token))))

    def term_sum(self, weights: dict[str, float]) -> npt.NDArray[np.float32]:
        """Per passage, the sum of the weights of the lexical tokens it contains."""
        summed: npt.NDArray[np.float32] = np.asarray(self.term_matrix @ self._term_vector(weights))
        return summed

    def __len__(self) -> int:
        return len(self.passages)

    def text(self, i: int) -> str:
        start, end = int(self.passage_starts[i]), int(self.passage_ends[i])
        return str(self.documents[self.doc_of[i]].text[start:end])

    def entry(self, d: int) -> Entry:
        """Document `d`'s passages, vectors and cues as a cache entry, to build another index
        with (its lexical tokens are worked out again: keeping them would double the memory)."""
        rows = np.flatnonzero(self.doc_of == d)
        first, last = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)
        texts = [self.text(i) for i in range(first, last)]
        return Entry(
            self.passages[first:last],
            [lexical_tokens(t) for t in texts],
            self.vectors[first:last],
            self.cues[first:last],
        )

    @classmethod
    def build(
        cls,
        documents: Sequence[Document],
        embedder: Embedder,
        cache: Cache | None = None,
        show_progress: bool = False,
        previous: Index | None = None,
        status: Status | None = None,
    ) -> Index:
        """Split and embed what neither `previous` (the index this one replaces) nor the cache
        already holds, then assemble the index. `status` follows the embedding as it goes."""
        snapshots = Snapshots(cache) if cache else None
        if snapshots and (saved := snapshots.get(documents)) is not None:
            parts = Parts(**saved)
            return cls(list(documents), parts, IndexStats(len(documents), len(parts.passages), 0))
        earlier = (
            {doc.fingerprint: d for d, doc in enumerate(previous.documents)} if previous else {}
        )
        entries: list[Entry | None] = [
            previous.entry(earlier[doc.fingerprint])
            if previous and doc.fingerprint in earlier
            else (cache.get(doc) if cache else None)
            for doc in documents
        ]
        todo = [i for i, e in enumerate(entries) if e is None]
        if cache and todo:  # after an upgrade every document misses; a warm start skips this
            cache.remove_outdated()
        split = {i: split_passages(documents[i]) for i in todo}
        texts = [documents[i].text[p.start : p.end] for i in todo for p in split[i]]
        if texts:
            log.info("Embedding %d passages of %d documents", len(texts), len(todo))
        with progress(status or Status(), len(todo), len(texts), show_progress) as advance:
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
        index = cls(list(documents), _parts(done), stats)
        if snapshots:
            snapshots.put(index)
        return index
