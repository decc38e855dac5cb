"""A whole built index in one cache file, for large folders: a restart then skips rebuilding the
BM25 indexes and the term matrix (about 3 s at 100,000 passages). Arrays and JSON only, checked
against the documents it claims to be of before it is used."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt
import scipy.sparse

from assistant import ann
from assistant.cache import (
    CUES,
    PIPELINE_VERSION,
    Cache,
    DamagedFile,
    check_passage_table,
    digest,
    is_of,
)
from assistant.cache import check_vectors as _check_vectors
from assistant.document import Document
from assistant.passage_table import (
    COLUMNS,
    PARAGRAPH,
    SECTION,
    PassageTable,
)

log = logging.getLogger(__name__)

# Bump when Parts or this file's arrays change; 4: arrays and JSON, no pickle; 5: pages and table
# headers; 6: a large index's vectors as float16, and its nearest-neighbour graph (assistant/ann.py)
LAYOUT = 6
MIN_PASSAGES = 20_000  # smaller indexes build in well under a second
KEEP = 2  # snapshots are large: keep only the most recent few


class Snapshots:
    """Snapshots of large indexes in a Cache's folder, keyed by their documents' bytes in order."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def _path(self, documents: Sequence[Document]) -> Path:
        # The size from which search is approximate is part of the key: a snapshot holds the
        # vectors (float16 or float32) and the graph, or not, as that size says.
        key = digest(
            f"{PIPELINE_VERSION}.{LAYOUT}.{ann.THRESHOLD}",
            self.cache.model_id,
            *(d.fingerprint for d in documents),
        )
        return self.cache.folder / f"index-{key}.npz"

    def get(self, documents: Sequence[Document]) -> dict[str, Any] | None:
        """The parts (as keyword arguments of index.Parts) of the index of exactly these
        documents, or None."""
        path = self._path(documents)
        try:
            with self.cache.read(path) as data:
                parts = read_parts(data, documents, self.cache.model_id)
        except FileNotFoundError:
            return None
        except Exception as e:  # a damaged snapshot is rebuilt, never fatal
            self.cache.discard(path, e)
            return None
        os.utime(path)  # recently used: kept by the pruning below
        return parts

    def put(self, index: Any) -> None:
        if len(index) < MIN_PASSAGES:
            return
        path = self._path(index.documents)
        if self.cache.write(path, **index_arrays(index, self.cache.model_id)):
            old = sorted(self.cache.folder.glob("index-*.npz"), key=lambda p: p.stat().st_mtime)
            for stale in old[:-KEEP]:
                stale.unlink(missing_ok=True)


def index_arrays(index: Any, model_id: str) -> dict[str, npt.NDArray[Any]]:
    passages: PassageTable = index.passages
    manifest = {
        "pipeline": PIPELINE_VERSION,
        "layout": LAYOUT,
        "model": model_id,
        "fingerprints": [d.fingerprint for d in index.documents],
        "text_lengths": [len(d.text) for d in index.documents],
        "strings": passages.strings,
        "vocabulary": list(index.vocabulary),
        "bm25_vocabulary": list(index.bm25.vocab_dict.items()),
        "paragraph_bm25_vocabulary": list(index.paragraph_bm25.vocab_dict.items()),
    }
    terms = index.term_matrix
    return {
        "manifest": np.array(json.dumps(manifest)),
        "passages": passages.columns,
        "quoted": passages.quoted,
        "doc_of": index.doc_of,
        "vectors": index.vectors,
        "cues": index.cues,
        **_bm25_arrays("bm25", index.bm25),
        **_bm25_arrays("paragraph_bm25", index.paragraph_bm25),
        "terms_indices": terms.indices.astype(np.int64),
        "terms_indptr": terms.indptr.astype(np.int64),
        **(index.nearest.arrays() if index.nearest is not None else {}),
    }


def _bm25_arrays(name: str, bm25: bm25s.BM25) -> dict[str, npt.NDArray[Any]]:
    scores = bm25.scores
    return {
        f"{name}_data": np.asarray(scores["data"], dtype=np.float32),
        f"{name}_indices": np.asarray(scores["indices"], dtype=np.int32),
        f"{name}_indptr": np.asarray(scores["indptr"], dtype=np.int64),
        f"{name}_docs": np.array(int(scores["num_docs"]), dtype=np.int64),
    }


def get_array(data: Any, key: str, dtype: type | tuple[type, ...], ndim: int) -> npt.NDArray[Any]:
    if key not in data.files:
        raise DamagedFile(f"it has no {key}")
    array = np.asarray(data[key])
    dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
    if not any(is_of(array, d) for d in dtypes) or array.ndim != ndim:
        raise DamagedFile(f"{key} is {array.dtype} of {array.ndim} dimensions")
    return array


def _csr_like(indptr: npt.NDArray[Any], indices: npt.NDArray[Any], rows: int, cols: int) -> None:
    """Raises DamagedFile unless (indptr, indices) describe `rows` rows over `cols` columns."""
    if len(indptr) != rows + 1 or indptr[0] != 0:
        raise DamagedFile("a sparse matrix has the wrong number of rows")
    if np.any(np.diff(indptr) < 0) or indptr[-1] != len(indices):
        raise DamagedFile("a sparse matrix's row pointers are out of order")
    if len(indices) and (indices.min() < 0 or indices.max() >= cols):
        raise DamagedFile("a sparse matrix points past its columns")


def _vocabulary(pairs: Any) -> dict[str, int]:
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and type(p[1]) is int
        for p in pairs
    ):
        raise DamagedFile("a vocabulary is not a list of words and numbers")
    return {word: number for word, number in pairs}


def _read_bm25(data: Any, name: str, vocabulary: dict[str, int], docs: int) -> bm25s.BM25:
    values = get_array(data, f"{name}_data", np.float32, 1)
    indices = get_array(data, f"{name}_indices", np.int32, 1)
    indptr = get_array(data, f"{name}_indptr", np.int64, 1)
    if int(get_array(data, f"{name}_docs", np.int64, 0)) != docs or len(values) != len(indices):
        raise DamagedFile(f"{name} is not of {docs} passages")
    if not np.isfinite(values).all() or len(indptr) > len(vocabulary) + 1:
        raise DamagedFile(f"{name} holds values that do not fit its vocabulary")
    # bm25s stores a column per token (one row pointer per token, then the end).
    _csr_like(indptr, indices, len(indptr) - 1, max(docs, 1))
    if any(not 0 <= number < len(vocabulary) for number in vocabulary.values()):
        raise DamagedFile(f"{name}'s vocabulary numbers its words out of range")
    bm25 = bm25s.BM25()
    bm25.scores = {"data": values, "indices": indices, "indptr": indptr, "num_docs": docs}
    bm25.vocab_dict = vocabulary
    bm25.unique_token_ids_set = set(vocabulary.values())
    bm25.nonoccurrence_array = None  # the default method (Lucene's) has none
    return bm25


def _read_terms(data: Any, n: int, columns: int) -> scipy.sparse.csr_matrix:
    """The term matrix; the saved int64 arrays, which scipy narrows into copies, are let go on
    return (holding them while the rest was read, loading a million passages peaked 0.14 GB above
    what it kept, measured)."""
    indices = get_array(data, "terms_indices", np.int64, 1)
    indptr = get_array(data, "terms_indptr", np.int64, 1)
    _csr_like(indptr, indices, n, columns)
    return scipy.sparse.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(n, columns)
    )


def read_parts(data: Any, documents: Sequence[Document], model_id: str) -> dict[str, Any]:
    manifest = json.loads(str(get_array(data, "manifest", np.str_, 0)))
    if not isinstance(manifest, dict):
        raise DamagedFile("its manifest is not a mapping")
    claimed = [manifest.get(k) for k in ("pipeline", "layout", "model")]
    if claimed != [PIPELINE_VERSION, LAYOUT, model_id]:
        raise DamagedFile("it is of another pipeline, layout or model")
    if manifest.get("fingerprints") != [d.fingerprint for d in documents] or manifest.get(
        "text_lengths"
    ) != [len(d.text) for d in documents]:
        raise DamagedFile("it is not of these documents")
    strings = manifest.get("strings")
    if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
        raise DamagedFile("its strings are not text")
    if len(set(strings)) != len(strings):  # the index takes equal ids for equal speakers
        raise DamagedFile("its strings repeat")
    table = get_array(data, "passages", np.int64, 2)
    n = len(table)
    if table.shape[1] != COLUMNS or table[:, SECTION:].min(initial=-1) < -1:
        raise DamagedFile("its passages have the wrong shape")
    if table[:, SECTION:].max(initial=-1) >= len(strings):
        raise DamagedFile("its passages name strings it does not have")
    if n and not 0 <= table[:, PARAGRAPH].min() <= table[:, PARAGRAPH].max() < 2**32:
        raise DamagedFile("its paragraph numbers are out of range")  # paragraph_ids packs them
    quoted = get_array(data, "quoted", np.bool_, 1)
    doc_of = get_array(data, "doc_of", np.int32, 1)
    if len(quoted) != n or len(doc_of) != n:
        raise DamagedFile("its passage arrays differ in length")
    if n and (doc_of.min() < 0 or doc_of.max() >= len(documents) or np.any(np.diff(doc_of) < 0)):
        raise DamagedFile("its passages point at documents it does not have")
    passages = PassageTable(table, quoted, strings)
    check_passage_table(passages, doc_of, documents)
    vectors = get_array(data, "vectors", (np.float32, np.float16), 2)
    if vectors.shape[0] != n:
        raise DamagedFile(f"it has {vectors.shape[0]} vectors for {n} passages")
    _check_vectors(vectors)
    cues = get_array(data, "cues", np.bool_, 2)
    if cues.shape != (n, CUES):
        raise DamagedFile("its cues have the wrong shape")
    vocabulary = manifest.get("vocabulary")
    if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
        raise DamagedFile("its vocabulary is not a list of words")
    terms = _read_terms(data, n, max(len(vocabulary), 1))
    paragraph_of = passages.paragraph_ids(doc_of)
    paragraphs = int(paragraph_of.max()) + 1 if n else 0
    try:
        nearest = ann.read(data, vectors) if ann.has_graph(data) else None
    except ann.DamagedGraph as e:
        raise DamagedFile(f"its nearest-neighbour graph does not check out: {e}") from None
    return dict(
        passages=passages,
        doc_of=doc_of,
        paragraph_of=paragraph_of,
        vectors=vectors,
        cues=cues,
        bm25=_read_bm25(data, "bm25", _vocabulary(manifest.get("bm25_vocabulary")), n),
        paragraph_bm25=_read_bm25(
            data,
            "paragraph_bm25",
            _vocabulary(manifest.get("paragraph_bm25_vocabulary")),
            paragraphs,
        ),
        vocabulary={word: column for column, word in enumerate(vocabulary)},
        term_matrix=terms,
        nearest=nearest,
    )
