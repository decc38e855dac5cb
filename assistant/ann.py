"""Approximate dense search for large indexes: the passages most like a question without a pass
over every vector.

Below THRESHOLD passages a question's dense similarity is computed for every passage (one
matrix-vector product, exact). From THRESHOLD on, a graph of the vectors (HNSW, faiss's
IndexHNSWSQ: 8-bit codes, 16 links a node) finds the passages most like the question; their
similarity is then computed exactly on the index's own vectors, and statistics over all passages
come from the index's fixed sample (assistant/nearest_signals.py).

Vectors that occur more than once (a sentence repeated in many documents: boilerplate, or the
benchmark corpora, which recombine 1,444 sentences) are put in the graph once, each node standing
for all its passages: a graph over many identical points loses its way (recall@10 0.39 on the
100,000-passage benchmark corpus, measured).

The graph is kept as plain arrays (each node's level, its neighbour lists, its 8-bit codes and the
quantiser's ranges), written and read like every other cache file (NumPy, no pickle) and checked
when read: every neighbour a node, the lists' lengths those its levels give, the entry point on
the top level, the passages a permutation of the index's, and the codes of a sample of nodes those
of the index's own vectors. faiss's own deserialiser never reads a file: the arrays are read into
a graph built empty here (the large ones straight from the file), so nothing read back can run
code or point outside the graph.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float32]

# Passages from which dense search is approximate: where the graph starts to pay (the benchmark
# corpora, graph against exact scan in one process; benchmarks/RESULTS.md, "A million passages"):
# at 50,000 passages answer p50 27.4 against 26.4 ms and peak memory 460 against 424 MB, at
# 100,000 passages 26.6 against 34.6 ms and 572 against 626 MB.
THRESHOLD = 100_000
# The graph's shape, chosen on the million-passage benchmark corpus (benchmarks/vectors.py: 1,444
# clusters of about 700 near-paraphrases) by recall@10 of 200 PolicyQA questions after the exact
# rerank of 256 candidates, and the search's time (one core; benchmarks/RESULTS.md):
#   links 16, construction 80:   search 320 0.737 (1.0 ms), 1280 0.932, 2560 0.976, 5120 0.982
#   links 32, construction 80:   search 320 0.819, 1280 0.954, 2560 0.976 (4.7 ms); 614 MB, not 492
#   links 16, construction 200:  search 1280 0.979, 2560 0.992 (4.6 ms), 5120 0.996 (11 ms)
#   links 24, construction 200:  search 2560 0.996 (5.2 ms), 61 MB more than 16 links
# (Our reading: a beam of a few hundred fills with one cluster's members.) Codes of 8 bits lose
# nothing against float16 storage (search 2560: 0.976 and 0.972, construction 80) at half its
# 0.73 GB; 4-bit codes do (0.862, construction 200).
LINKS = 16  # HNSW's M: links per node on the upper levels, twice as many on the lowest
EF_CONSTRUCTION = 200  # candidates kept while linking a new node
EF_SEARCH = 2560  # candidates kept while searching (at least the number of results asked)
CHECKED_CODES = 256  # nodes whose codes are compared with the index's vectors when read
_CHUNK = 65_536  # vectors converted to float32 at a time while building
_READ_BYTES = 1 << 24  # read at a time from a saved graph
_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}

_faiss_lock = threading.Lock()


def _faiss() -> Any:
    """faiss, imported on first use (0.2 s): a small index never needs it."""
    with _faiss_lock:
        import faiss

        return faiss


class DamagedGraph(ValueError):
    """Saved graph arrays that do not check out; the message says why."""


class Nearest:
    """A graph over an index's distinct vectors; `search` gives passage numbers."""

    def __init__(self, graph: Any, passages: Ints, starts: npt.NDArray[np.int64]) -> None:
        self.graph = graph
        # Node d stands for passages[starts[d]:starts[d + 1]] (in passage order).
        self.passages = passages
        self.starts = starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def search(self, vector: Floats, k: int) -> Ints:
        """Passages whose vectors are (approximately) among the `k` most like `vector`: every
        passage of the best nodes, in the graph's order, until there are at least `k`."""
        _, labels = self.graph.search(vector.reshape(1, -1).astype(np.float32), min(k, len(self)))
        nodes = labels[0][labels[0] >= 0]
        sizes = self.starts[nodes + 1] - self.starts[nodes]
        enough = int(np.searchsorted(np.cumsum(sizes), k)) + 1
        nodes, sizes = nodes[:enough], sizes[:enough]
        first = self.starts[nodes]
        offsets = np.repeat(first - (np.cumsum(sizes) - sizes), sizes)
        found: Ints = self.passages[np.arange(int(sizes.sum())) + offsets]
        return found

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """What `read` takes back: plain arrays, prefixed ann_."""
        faiss = _faiss()
        storage = faiss.downcast_index(self.graph.storage)
        hnsw = self.graph.hnsw
        return {
            "ann_levels": faiss.vector_to_array(hnsw.levels).astype(np.int32),
            "ann_neighbors": faiss.vector_to_array(hnsw.neighbors).astype(np.int32),
            "ann_entry": np.array(int(hnsw.entry_point), dtype=np.int64),
            "ann_codes": faiss.vector_to_array(storage.codes).reshape(len(self), -1),
            "ann_ranges": faiss.vector_to_array(storage.sq.trained).astype(np.float32),
            "ann_passages": self.passages,
            "ann_starts": self.starts,
        }


def _empty_graph(dim: int) -> Any:
    faiss = _faiss()
    graph = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, LINKS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    graph.hnsw.efSearch = EF_SEARCH
    return graph


def _groups(vectors: npt.NDArray[Any]) -> tuple[Ints, Ints, npt.NDArray[np.int64]]:
    """The first passage of each distinct vector, and every passage grouped by its vector."""
    rows = np.ascontiguousarray(vectors)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    passages = np.argsort(inverse.ravel(), kind="stable").astype(np.int32)
    starts = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(np.bincount(inverse.ravel(), minlength=len(first)), out=starts[1:])
    return first.astype(np.int32), passages, starts


def build(vectors: npt.NDArray[Any]) -> Nearest:
    """The graph of `vectors` (unit length, float16 or float32), built on every core."""
    first, passages, starts = _groups(vectors)
    graph = _empty_graph(vectors.shape[1])
    # The quantiser's ranges: each dimension's smallest and largest value over every vector (no
    # training sample, so no value is clipped).
    low = np.full(vectors.shape[1], np.inf, dtype=np.float32)
    high = np.full(vectors.shape[1], -np.inf, dtype=np.float32)
    for begin in range(0, len(first), _CHUNK):
        chunk = vectors[first[begin : begin + _CHUNK]].astype(np.float32)
        low, high = np.minimum(low, chunk.min(axis=0)), np.maximum(high, chunk.max(axis=0))
    _set_ranges(graph, np.concatenate([low, high - low]))
    for begin in range(0, len(first), _CHUNK):
        graph.add(vectors[first[begin : begin + _CHUNK]].astype(np.float32))
    return Nearest(graph, passages, starts)


def _set_ranges(graph: Any, ranges: Floats) -> None:
    faiss = _faiss()
    storage = faiss.downcast_index(graph.storage)
    storage.sq.trained.clear()
    faiss.copy_array_to_vector(ranges.astype(np.float32), storage.sq.trained)
    storage.is_trained = True
    graph.is_trained = True


def _array(data: Any, key: str, dtype: type, ndim: int) -> npt.NDArray[Any]:
    if key not in data.files:
        raise DamagedGraph(f"it has no {key}")
    array = np.asarray(data[key])
    if array.dtype != np.dtype(dtype) or array.ndim != ndim:
        raise DamagedGraph(f"{key} is {array.dtype} of {array.ndim} dimensions")
    return array


def _read_into(
    data: Any, key: str, dtype: type, shape: tuple[int, ...], vector: Any
) -> npt.NDArray[Any]:
    """The array `key` of the npz `data`, of this dtype and shape, read straight from the file
    into the faiss `vector` (resized to fit); a NumPy view of it. Read whole and then copied,
    a million nodes' codes and links took 0.43 GB more at their peak (measured)."""
    name = f"{key}.npy"
    if name not in data.zip.namelist():
        raise DamagedGraph(f"it has no {key}")
    with data.zip.open(name) as f:
        try:
            header = _HEADERS.get(np.lib.format.read_magic(f))
            if header is None:
                raise ValueError("an .npy version this does not read")
            found, fortran, found_dtype = header(f)
        except ValueError as e:
            raise DamagedGraph(f"{key} is not an array: {e}") from None
        if found_dtype != np.dtype(dtype) or fortran or tuple(found) != shape:
            raise DamagedGraph(f"{key} is {found_dtype} of shape {found}, not {shape}")
        count = int(np.prod(shape))
        vector.resize(count)
        if count == 0:
            return np.zeros(shape, dtype=dtype)
        array: npt.NDArray[Any] = _faiss().rev_swig_ptr(vector.data(), count)
        into = array.view(np.uint8)
        done = 0
        while done < len(into):
            got = f.readinto(into[done : done + _READ_BYTES].data)
            if not got:
                raise DamagedGraph(f"{key} is cut short")
            done += got
    return array


def has_graph(data: Any) -> bool:
    return "ann_levels" in data.files


def read(data: Any, vectors: npt.NDArray[Any]) -> Nearest:
    """The graph saved by Nearest.arrays in `data` (an npz), for these `vectors`, checked;
    DamagedGraph with the reason when it does not check out."""
    n, dim = vectors.shape
    passages = _array(data, "ann_passages", np.int32, 1)
    starts = _array(data, "ann_starts", np.int64, 1)
    nodes = len(starts) - 1
    if len(passages) != n or nodes < 1 or starts[0] != 0 or starts[-1] != n:
        raise DamagedGraph("its passages are not the index's")
    if np.any(np.diff(starts) < 1):
        raise DamagedGraph("a node stands for no passage")
    if passages.min() < 0 or passages.max() >= n or np.bincount(passages, minlength=n).max() > 1:
        raise DamagedGraph("its passages are not each of the index's once")
    levels = _array(data, "ann_levels", np.int32, 1)
    if len(levels) != nodes or levels.min() < 1 or levels.max() > 32:
        raise DamagedGraph("its levels are out of range")
    graph = _empty_graph(dim)
    faiss = _faiss()
    hnsw = graph.hnsw
    per_level = faiss.vector_to_array(hnsw.cum_nneighbor_per_level).astype(np.int64)
    if levels.max() >= len(per_level):
        raise DamagedGraph("its levels are out of range")
    offsets = np.zeros(nodes + 1, dtype=np.uint64)
    np.cumsum(per_level[levels], out=offsets[1:], dtype=np.uint64)
    links = (int(offsets[-1]),)
    neighbors = _read_into(data, "ann_neighbors", np.int32, links, hnsw.neighbors)
    if neighbors.min(initial=-1) < -1 or neighbors.max(initial=-1) >= nodes:
        raise DamagedGraph("a neighbour is not a node")
    entry = int(_array(data, "ann_entry", np.int64, 0))
    if not 0 <= entry < nodes or levels[entry] != levels.max():
        raise DamagedGraph("its entry point is not on its top level")
    ranges = _array(data, "ann_ranges", np.float32, 1)
    if ranges.shape != (2 * dim,) or not np.isfinite(ranges).all():
        raise DamagedGraph("its quantiser's ranges are not of its vectors")
    _set_ranges(graph, ranges)
    storage = faiss.downcast_index(graph.storage)
    shape = (nodes, storage.code_size)
    codes = _read_into(data, "ann_codes", np.uint8, shape, storage.codes).reshape(shape)
    # Each node's codes must be those of its passages' vector: checked on a fixed sample.
    sample = np.linspace(0, nodes - 1, min(nodes, CHECKED_CODES)).astype(np.int64)
    expected = storage.sa_encode(vectors[passages[starts[sample]]].astype(np.float32))
    if not np.array_equal(expected, codes[sample]):
        raise DamagedGraph("its codes are not those of the index's vectors")
    storage.ntotal = nodes
    hnsw.levels.clear()
    faiss.copy_array_to_vector(levels, hnsw.levels)
    hnsw.offsets.clear()
    faiss.copy_array_to_vector(offsets, hnsw.offsets)
    hnsw.entry_point = entry
    hnsw.max_level = int(levels.max()) - 1
    graph.ntotal = nodes
    return Nearest(graph, passages, starts)
