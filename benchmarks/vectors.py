"""Embeddings remembered by text on disk, so warm caches of big corpora are cheap to rebuild.

Generated corpora repeat their source sentences, and each system's vectors of a sentence never
change: this store embeds each distinct text once across runs. It only prepares caches for the
warm measurements (latency, memory, cold start); throughput is always measured on a cold model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.embedding import Progress, Vectors

Encode = Callable[[Sequence[str]], Vectors]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class StoredVectors:
    """Vectors by text hash in one .npz file; `encode` fills in the texts it has not seen."""

    def __init__(self, path: Path, encode: Encode) -> None:
        self.path, self._encode = path, encode
        self._rows: dict[str, int] = {}
        self._vectors = np.zeros((0, 384), dtype=np.float32)
        if path.exists():
            with np.load(path) as data:
                self._rows = {str(k): i for i, k in enumerate(data["keys"])}
                self._vectors = data["vectors"]

    def vectors(self, texts: Sequence[str]) -> Vectors:
        keys = [_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._rows}
        if missing:
            new = self._encode(list(missing.values()))
            base = len(self._rows)
            self._rows.update((k, base + i) for i, k in enumerate(missing))
            self._vectors = np.vstack([self._vectors, new.astype(np.float32)])
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, keys=np.array(list(self._rows)), vectors=self._vectors)
        return self._vectors[[self._rows[k] for k in keys]]

    def all(self) -> Vectors:
        """Every vector stored."""
        return self._vectors

    def rows(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        """Where each of `texts` (embedded already) is in `all()`."""
        return np.array([self._rows[_key(t)] for t in texts], dtype=np.int64)


class StoredEmbedder:
    """An `Embedder` for `Assistant.load` that answers from a StoredVectors; same `model_id` as
    the embedder it wraps, so the caches it writes are the ones `policy-qa` reads."""

    def __init__(self, model_id: str, store: StoredVectors) -> None:
        self.model_id, self._store = model_id, store

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        return self._store.vectors(texts)


class DistinctEmbedder:
    """A StoredEmbedder for the corpora past 100,000 passages, whose every repeat of a sentence
    gets a vector of its own.

    The generated corpora draw their passages from 1,444 distinct PolicyQA sentences, so a million
    passages hold each about 700 times: embedded for real, a million passages would be 1,444
    vectors, and a nearest-neighbour graph over them (assistant/ann.py indexes each distinct vector
    once) would be no test of searching a million. Embedding a million distinct sentences with this
    model would take about 1.8 hours on the benchmark machine (155 passages/s). So a sentence's
    first occurrence keeps its own vector and each repeat gets it moved towards another sentence of
    the pool, v + b w renormalised, with b drawn from 0.1 to 0.5 (cosine to v about 0.85 to 0.99):
    a million distinct vectors in the model's own space, in dense clusters of near-paraphrases
    (each sentence's 700 or so). Deterministic for the same texts in the same order."""

    def __init__(self, model_id: str, store: StoredVectors, seed: int = 0) -> None:
        self.model_id, self._store, self._seed = model_id, store, seed

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        vectors = self._store.vectors(texts).astype(np.float32)
        seen: dict[str, int] = {}
        repeats = []
        for number, text in enumerate(texts):
            if seen.setdefault(text, number) != number:
                repeats.append(number)
        if repeats:
            rng = np.random.default_rng(self._seed)
            pool = self._store.all()
            at = np.array(repeats, dtype=np.int64)
            own = self._store.rows([texts[r] for r in repeats])
            for begin in range(0, len(at), 65_536):
                rows = at[begin : begin + 65_536]
                # Any sentence of the pool but its own (which would leave the vector where it was).
                drawn = rng.integers(0, len(pool) - 1, len(rows))
                others = pool[drawn + (drawn >= own[begin : begin + 65_536])]
                weights = rng.uniform(0.1, 0.5, (len(rows), 1)).astype(np.float32)
                moved = vectors[rows] + weights * others
                vectors[rows] = moved / np.linalg.norm(moved, axis=1, keepdims=True)
        return vectors
