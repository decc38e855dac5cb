"""Warm caches per corpus size: the core's index cache and the alternative's saved embeddings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

import assistant
from assistant import Assistant
from assistant.embedding import OnnxEmbedder, Vectors
from benchmarks import baseline, corpora
from benchmarks.vectors import DistinctEmbedder, StoredEmbedder, StoredVectors

VECTORS = corpora.DATA / "vectors"
CORE = Path(assistant.__file__).parent  # the core being measured (see --ref)
HERE = Path(__file__).resolve().parent


def _digest(*paths: Path) -> str:
    return hashlib.sha1(b"".join(p.read_bytes() for p in paths)).hexdigest()[:10]


# One cache directory per version of the core's code: a cache written by other splitting or
# tokenizing code is never reused, even when the core forgot to bump its PIPELINE_VERSION.
CACHE = corpora.DATA / "cache" / _digest(*sorted(CORE.glob("*.py")), *sorted(CORE.glob("*.json")))
ONNX_VECTORS = VECTORS / f"onnx-{_digest(CORE / 'embedding.py')}.npz"
# Past this many passages every repeat of a sentence gets a vector of its own (DistinctEmbedder),
# and the simple alternative is not prepared: rank_bm25 scores every passage in Python for each
# question term (253 ms a question at 100,000 passages), and its saved embeddings and texts would
# be 1.7 GB at a million.
DISTINCT_FROM = 100_001
# Those corpora keep a cache of their own: they begin with the smaller corpora's documents (the
# same generator seed), and a cache entry is found by its document's content, so in one cache the
# first of them prepared would hand its vectors (plain or moved) to the other. Its name follows
# the code that moves the vectors too.
DISTINCT_CACHE = CACHE.with_name(f"{CACHE.name}-distinct-{_digest(HERE / 'vectors.py')}")


@dataclass(frozen=True)
class Prepared:
    passages: int
    corpus: Path  # the knowledge folder
    cache: Path  # the core's cache directory, warm for `corpus`
    baseline: Path | None  # the alternative's passages and embeddings (None: too large for it)


@cache
def _onnx() -> OnnxEmbedder:
    return OnnxEmbedder()


@cache
def _sentence_transformer() -> object:
    return baseline.load_model()


def _onnx_encode(texts: Sequence[str]) -> Vectors:
    return _onnx().embed(texts)


def _st_encode(texts: Sequence[str]) -> Vectors:
    return baseline.encode(_sentence_transformer(), list(texts))


def prepare(passages: int) -> Prepared:
    folder = corpora.corpus(passages)
    store = StoredVectors(ONNX_VECTORS, _onnx_encode)
    if passages >= DISTINCT_FROM:
        distinct = DistinctEmbedder(OnnxEmbedder.model_id, store)
        index = Assistant.load(folder, embedder=distinct, cache_dir=DISTINCT_CACHE).index
        return Prepared(len(index), folder, DISTINCT_CACHE, None)
    ours = StoredEmbedder(OnnxEmbedder.model_id, store)
    index = Assistant.load(folder, embedder=ours, cache_dir=CACHE).index
    texts = [index.text(i) for i in range(len(index))]
    digest = hashlib.sha1(json.dumps(texts).encode()).hexdigest()[:12]
    saved = corpora.DATA / "baseline" / f"p{passages}-{digest}.npz"
    if not saved.exists():
        st = StoredVectors(VECTORS / "st.npz", _st_encode)
        baseline.save(saved, texts, np.asarray(st.vectors(texts)))
    return Prepared(len(texts), folder, CACHE, saved)
