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
from benchmarks.vectors import StoredEmbedder, StoredVectors

VECTORS = corpora.DATA / "vectors"
CORE = Path(assistant.__file__).parent  # the core being measured (see --ref)


def _digest(*paths: Path) -> str:
    return hashlib.sha1(b"".join(p.read_bytes() for p in paths)).hexdigest()[:10]


# One cache directory per version of the core's code: a cache written by other splitting or
# tokenizing code is never reused, even when the core forgot to bump its PIPELINE_VERSION.
CACHE = corpora.DATA / "cache" / _digest(*sorted(CORE.glob("*.py")), *sorted(CORE.glob("*.json")))
ONNX_VECTORS = VECTORS / f"onnx-{_digest(CORE / 'embedding.py')}.npz"


@dataclass(frozen=True)
class Prepared:
    passages: int
    corpus: Path  # the knowledge folder
    cache: Path  # the core's cache directory, warm for `corpus`
    baseline: Path  # the alternative's passages and embeddings


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
    ours = StoredEmbedder(OnnxEmbedder.model_id, StoredVectors(ONNX_VECTORS, _onnx_encode))
    index = Assistant.load(folder, embedder=ours, cache_dir=CACHE).index
    texts = [index.text(i) for i in range(len(index))]
    digest = hashlib.sha1(json.dumps(texts).encode()).hexdigest()[:12]
    saved = corpora.DATA / "baseline" / f"p{passages}-{digest}.npz"
    if not saved.exists():
        st = StoredVectors(VECTORS / "st.npz", _st_encode)
        baseline.save(saved, texts, np.asarray(st.vectors(texts)))
    return Prepared(len(texts), folder, CACHE, saved)
