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


class StoredEmbedder:
    """An `Embedder` for `Assistant.load` that answers from a StoredVectors; same `model_id` as
    the embedder it wraps, so the caches it writes are the ones `policy-qa` reads."""

    def __init__(self, model_id: str, store: StoredVectors) -> None:
        self.model_id, self._store = model_id, store

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        return self._store.vectors(texts)
