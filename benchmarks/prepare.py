"""Warm caches per corpus size: the core's index cache and the alternative's saved embeddings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.embedding import OnnxEmbedder, Vectors
from benchmarks import baseline, corpora
from benchmarks.vectors import StoredEmbedder, StoredVectors

CACHE = corpora.DATA / "cache"  # what $POLICY_QA_CACHE points to in the warm measurements
VECTORS = corpora.DATA / "vectors"


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
    ours = StoredEmbedder(OnnxEmbedder.model_id, StoredVectors(VECTORS / "onnx.npz", _onnx_encode))
    index = Assistant.load(folder, embedder=ours, cache_dir=CACHE).index
    texts = [index.text(i) for i in range(len(index))]
    digest = hashlib.sha1(json.dumps(texts).encode()).hexdigest()[:12]
    saved = corpora.DATA / "baseline" / f"p{passages}-{digest}.npz"
    if not saved.exists():
        st = StoredVectors(VECTORS / "st.npz", _st_encode)
        baseline.save(saved, texts, np.asarray(st.vectors(texts)))
    return Prepared(len(texts), folder, CACHE, saved)
