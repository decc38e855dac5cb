"""The simple alternative: rank_bm25 + plain sentence-transformers, as a user would assemble it.

BM25Okapi over lower-cased word tokens, `SentenceTransformer.encode` for question and passages,
cosine similarity, and the sum of both scores min-max normalised. Its passages are the core's, so
the comparison is of the retrieval machinery only. Run as a script it is the cold-start rival of
`policy-qa ask`: `python -m benchmarks.baseline DATA.npz "question"`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def load_model() -> Any:
    from sentence_transformers import SentenceTransformer

    from assistant.embedding import minilm_dir

    return SentenceTransformer(str(minilm_dir()), device="cpu")


def encode(model: Any, texts: list[str]) -> np.ndarray:
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def _minmax(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores)


class SimpleSearch:
    """Passages, their vectors and a BM25Okapi, answering with the top passages."""

    def __init__(self, model: Any, texts: list[str], vectors: np.ndarray) -> None:
        from rank_bm25 import BM25Okapi

        self.model, self.texts, self.vectors = model, texts, vectors
        self.bm25 = BM25Okapi([tokenize(t) for t in texts])

    @classmethod
    def load(cls, data: Path) -> SimpleSearch:
        """From a file `save` wrote (the cached passage embeddings a user would keep)."""
        with np.load(data) as saved:
            texts, vectors = json.loads(str(saved["texts"])), saved["vectors"]
        return cls(load_model(), texts, vectors)

    def answer(self, question: str, top: int = 3) -> list[str]:
        query = encode(self.model, [question])[0]
        dense = self.vectors @ query
        lexical = np.asarray(self.bm25.get_scores(tokenize(question)))
        score = _minmax(dense) + _minmax(lexical)
        return [self.texts[i] for i in np.argsort(-score)[:top]]


def save(path: Path, texts: list[str], vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, texts=np.array(json.dumps(texts)), vectors=vectors.astype(np.float32))


def main() -> None:
    data, question = Path(sys.argv[1]), sys.argv[2]
    search = SimpleSearch.load(data)
    print("\n".join(search.answer(question)), flush=True)


if __name__ == "__main__":
    main()
