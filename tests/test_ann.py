"""Approximate dense search (assistant/ann.py): with the threshold lowered, the bundled article is
answered through the graph exactly as through the exact scan; the graph finds what the scan finds,
stands for every copy of a repeated vector, and is saved and read back as checked arrays; a damaged
saved graph is discarded and rebuilt, never used."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Assistant, ann
from assistant import snapshot as snapshots
from assistant.nearest_signals import _best
from assistant.publish import load_published, publish
from tests.conftest import DATA, ROOT

QUESTION = "Why was Kaspersky banned?"


@pytest.fixture
def approximate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled article (20 passages) counts as large: searched through the graph, and kept in
    a snapshot."""
    monkeypatch.setattr(ann, "THRESHOLD", 1)
    monkeypatch.setattr(snapshots, "MIN_PASSAGES", 1)


def _questions() -> list[str]:
    files = (DATA / "kaspersky-dev.jsonl", DATA / "held-out.jsonl")
    return [json.loads(line)["q"] for f in files for line in f.read_text().splitlines() if line]


def _cited(answer: Any) -> tuple[Any, ...]:
    return (answer.answered, answer.caveat, [(c.path, c.start, c.end) for c in answer.citations])


def test_the_graph_answers_the_article_as_the_exact_scan(
    assistant: Assistant, approximate: None, tmp_path: Path
) -> None:
    through_graph = Assistant.load(cache_dir=tmp_path)
    assert through_graph.index.nearest is not None and assistant.index.nearest is None
    assert through_graph.index.vectors.dtype == np.float16
    questions = _questions()
    assert len(questions) > 60
    for question in questions:
        assert _cited(through_graph.answer(question)) == _cited(assistant.answer(question)), (
            question
        )


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in clusters, like sentences on a few topics."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, 64))
    vectors = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, 64))
    unit: np.ndarray = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return unit


def test_the_graph_finds_what_the_exact_scan_finds() -> None:
    vectors = _clustered(6000)
    queries = _clustered(50, seed=1)
    graph = ann.build(vectors.astype(np.float16))
    found = 0
    for query in queries:
        near = graph.search(query, 256)
        best = near[np.argsort(-(vectors[near] @ query))[:10]]
        exact = np.argsort(-(vectors @ query))[:10]
        found += len(set(best.tolist()) & set(exact.tolist()))
    assert found / (10 * len(queries)) >= 0.98


def test_a_vector_repeated_is_one_node_standing_for_every_copy() -> None:
    distinct = _clustered(300)
    vectors = np.vstack([distinct] * 5)  # each vector five times, as boilerplate repeats
    graph = ann.build(vectors)
    assert len(graph) == 300
    near = graph.search(distinct[7], 12)
    # The best nodes until at least 12 passages: three nodes of five copies each.
    assert len(near) == 15 and {7, 307, 607, 907, 1207} <= set(near.tolist())
    assert np.allclose(vectors[near[:5]], distinct[7])


def test_the_best_passages_by_bm25_are_those_a_stable_sort_of_all_gives() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 40, 5000).astype(np.float32)  # many ties, at the cut too
    values[rng.random(5000) < 0.3] = 0.0
    among = np.flatnonzero(values).astype(np.int32)
    for size in (1, 10, 256, len(among), len(among) + 5):
        expected = among[np.argsort(-values[among], kind="stable")[:size]]
        assert np.array_equal(_best(values, among, size), expected)


def _saved(graph: ann.Nearest) -> dict[str, np.ndarray]:
    return {name: array.copy() for name, array in graph.arrays().items()}


def _read(arrays: dict[str, np.ndarray], vectors: np.ndarray) -> ann.Nearest:
    """ann.read of these arrays saved as an index's cache file is."""
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as data:
        return ann.read(data, vectors)


def test_a_saved_graph_reads_back_searching_the_same() -> None:
    vectors = _clustered(3000).astype(np.float16)
    graph = ann.build(vectors)
    read = _read(_saved(graph), vectors)
    for query in _clustered(20, seed=2):
        assert np.array_equal(read.search(query, 50), graph.search(query, 50))


def _neighbour_outside(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_neighbors"][3] = len(arrays["ann_starts"]) + 5


def _levels_longer(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_levels"][0] += 1


def _entry_below_the_top(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_entry"] = np.array(int(np.argmin(arrays["ann_levels"])), dtype=np.int64)


def _codes_of_other_vectors(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_codes"][0] = 255 - arrays["ann_codes"][0]


def _a_passage_twice(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_passages"][1] = arrays["ann_passages"][0]


def _wrong_dtype(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_neighbors"] = arrays["ann_neighbors"].astype(np.int64)


def _missing(arrays: dict[str, np.ndarray]) -> None:
    del arrays["ann_codes"]


def _links_cut_short(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_neighbors"] = arrays["ann_neighbors"][:-1]


def _codes_of_fewer_nodes(arrays: dict[str, np.ndarray]) -> None:
    arrays["ann_codes"] = arrays["ann_codes"][:-1]


@pytest.mark.parametrize(
    "damage",
    [
        _neighbour_outside,
        _levels_longer,
        _entry_below_the_top,
        _codes_of_other_vectors,
        _a_passage_twice,
        _wrong_dtype,
        _missing,
        _links_cut_short,
        _codes_of_fewer_nodes,
    ],
)
def test_a_damaged_saved_graph_is_refused(damage: Callable[[dict[str, np.ndarray]], None]) -> None:
    vectors = _clustered(2000).astype(np.float16)
    arrays = _saved(ann.build(vectors))
    damage(arrays)
    with pytest.raises(ann.DamagedGraph):
        _read(arrays, vectors)


def test_a_saved_graph_whose_file_is_cut_short_is_refused() -> None:
    vectors = _clustered(2000).astype(np.float16)
    saved = io.BytesIO()
    np.savez(saved, allow_pickle=False, **_saved(ann.build(vectors)))
    cut = io.BytesIO()
    with zipfile.ZipFile(saved) as whole, zipfile.ZipFile(cut, "w") as short:
        for name in whole.namelist():
            data = whole.read(name)
            short.writestr(name, data[:-100] if name == "ann_codes.npy" else data)
    cut.seek(0)
    with np.load(cut, allow_pickle=False) as data, pytest.raises(ann.DamagedGraph, match="short"):
        ann.read(data, vectors)


def _rewrite(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Write the npz again with one array changed (a valid zip: only the graph is wrong)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    path.write_bytes(buffer.getvalue())


def test_a_damaged_graph_in_a_snapshot_is_discarded_and_rebuilt(
    approximate: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    first = Assistant.load(cache_dir=cache)
    (snapshot,) = cache.rglob("index-*.npz")
    with zipfile.ZipFile(snapshot) as saved:
        assert "ann_neighbors.npy" in saved.namelist()
    _rewrite(snapshot, _neighbour_outside)
    caplog.set_level(logging.WARNING)
    rebuilt = Assistant.load(cache_dir=cache)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "nearest-neighbour graph does not check out" in warnings[0]
    assert rebuilt.index.stats.embedded == 0  # the documents' own cache files still hold
    assert rebuilt.index.nearest is not None
    assert _cited(rebuilt.answer(QUESTION)) == _cited(first.answer(QUESTION))
    caplog.clear()
    again = Assistant.load(cache_dir=cache)  # the snapshot was written again, with its graph
    assert not caplog.records and again.index.nearest is not None
    assert _cited(again.answer(QUESTION)) == _cited(first.answer(QUESTION))


def test_a_published_index_carries_its_graph(approximate: None, tmp_path: Path) -> None:
    built = Assistant.load(cache_dir=tmp_path / "cache")
    into = tmp_path / "published"
    publish(built.index, built.embedder.model_id, ROOT / "knowledge", into)
    loaded = load_published(into, ROOT / "knowledge", built.embedder.model_id).index
    assert loaded.nearest is not None and not hasattr(loaded, "nearest_seconds")  # read, not built
    assert np.array_equal(loaded.nearest.passages, built.index.nearest.passages)  # type: ignore[union-attr]
    worker = Assistant.load(index_dir=into)
    assert _cited(worker.answer(QUESTION)) == _cited(built.answer(QUESTION))
