"""The vectors of the benchmarks' million-passage corpus (benchmarks/vectors.py): each repeat of a
sentence gets a vector of its own near the model's, so the graph is measured over a million
distinct points, not over the pool's 1,444."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.embedding import OnnxEmbedder
from benchmarks.vectors import DistinctEmbedder, StoredVectors

SENTENCES = (
    "We keep your data for as long as your account is open.",
    "You may ask us to delete the information we hold about you.",
    "Cookies help us remember your preferences between visits.",
)


def test_every_repeat_of_a_sentence_gets_a_vector_of_its_own_near_the_models(
    tmp_path: Path,
) -> None:
    a, b, c = SENTENCES
    texts = [a, b, a, c, a, b, a]
    store = StoredVectors(tmp_path / "vectors.npz", OnnxEmbedder().embed)
    moved = DistinctEmbedder(OnnxEmbedder.model_id, store).embed(texts)
    plain = store.vectors(texts)
    first, repeats = [0, 1, 3], [2, 4, 5, 6]
    assert np.array_equal(moved[first], plain[first])
    assert len(np.unique(moved, axis=0)) == len(texts)
    assert np.allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    cosines = (moved[repeats] * plain[repeats]).sum(axis=1)
    assert (cosines > 0.8).all() and (cosines < 0.999).all(), cosines
    again = DistinctEmbedder(OnnxEmbedder.model_id, store).embed(texts)
    assert np.array_equal(again, moved)
