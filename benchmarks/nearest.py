"""Approximate dense search (assistant/ann.py) against the exact scan, on the same corpus.

For each prepared size from 50,000 passages (below and above assistant.ann.THRESHOLD, so where the
graph starts to pay is measured): warm answer latency of the graph and of the exact scan, in one
serving process, question by question (`benchmarks.worker latency graph+exact`), and the peak
memory of each alone; the graph's recall@10 against the exact scan; how long building the index
takes from embedded documents, and the graph's share of it. `python -m benchmarks.nearest CORPUS CACHE` is the worker
that builds and measures recall, printing one JSON object.

recall@10: for each PolicyQA question, the ten passages the answering path takes as the most like
the question (the graph's candidates, ordered by their exact similarity on the index's float16
vectors) against the exact scan's ten over the float32 vectors; one counts when its exact
similarity is at least the exact tenth's (so among equal vectors any copy counts).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.prepare import Prepared
from benchmarks.report import Row, Section, percentiles
from benchmarks.serving import LATENCY_TARGETS, P99_TARGETS, RSS_TARGETS_MB, run_worker

RECALL_TARGET = 0.98
TOP = 10
SMALLEST = 50_000  # passages; below, the exact scan of every vector takes a few milliseconds


def measure(sizes: list[Prepared], questions: int) -> Section:
    section = Section(
        "Dense search through the graph (assistant/ann.py) against the exact scan",
        "our exact scan of every vector, same corpus and process kind",
        when_empty=f"it measures corpora of {SMALLEST:,} passages and more "
        "(--sizes 100000,1000000)",
    )
    for p in sizes:
        if p.passages < SMALLEST:
            continue
        where = f"{p.passages:,} passages"
        # Both in one process, question by question: on a shared machine, one after the other
        # saw different loads (100,000 passages: the graph 1.59x the exact scan in one run,
        # 0.96x in the one before).
        both = run_worker("latency", "graph+exact", p, questions)["latencies_ms"]
        graph, exact = both["graph"], both["exact"]
        (g50, g99), (e50, e99) = percentiles(graph, 50, 99), percentiles(exact, 50, 99)
        g_mem = run_worker("memory", "graph", p, 20)
        e_mem = run_worker("memory", "exact", p, 20)
        built = _build_worker(p)
        goal, spread = LATENCY_TARGETS.get(p.passages), P99_TARGETS.get(p.passages)
        most_mb = RSS_TARGETS_MB.get(p.passages)
        section.rows += [
            Row(
                section.title,
                f"{where}, answer p50",
                g50,
                e50,
                "ms",
                f"<= {goal:.0f} ms" if goal else "",
                g50 <= goal if goal else None,
            ),
            Row(
                section.title,
                f"{where}, answer p99",
                g99,
                e99,
                "ms",
                f"<= {spread:.0f}x p50" if spread else "",
                g99 <= spread * g50 if spread else None,
                f"({g99 / g50:.1f}x p50, n={len(graph)})",
            ),
            Row(
                section.title,
                f"{where}, peak RSS",
                g_mem["peak_rss_mb"],
                e_mem["peak_rss_mb"],
                "MB",
                f"<= {most_mb:,.0f} MB" if most_mb else "",
                g_mem["peak_rss_mb"] <= most_mb if most_mb else None,
                f"(load {g_mem['load_s']['graph']:.1f} s vs {e_mem['load_s']['exact']:.1f} s)",
            ),
            Row(
                section.title,
                f"{where}, recall@{TOP} against the exact scan",
                built["recall"],
                None,
                "fraction",
                f">= {RECALL_TARGET}",
                built["recall"] >= RECALL_TARGET,
                f"(fewest found {built['recall_min']:.0f} of {TOP}, {built['questions']} questions)",
            ),
            Row(
                section.title,
                f"{where}, search alone p50 / p99",
                built["search_ms"][0],
                built["scan_ms"][0],
                "ms",
                note=f"(p99 {built['search_ms'][1]:.2f} vs {built['scan_ms'][1]:.1f} ms)",
            ),
            Row(
                section.title,
                f"{where}, index build from embedded documents",
                built["build_s"],
                None,
                "s",
                note=(
                    f"(graph {built['graph_s']:.0f} s, {built['graph_s'] / built['build_s']:.0%};"
                    f" {built['nodes']:,} distinct vectors)"
                ),
            ),
        ]
        section.raw[str(p.passages)] = {
            "graph_ms": graph,
            "exact_ms": exact,
            "graph_memory": g_mem,
            "exact_memory": e_mem,
            "build": built,
        }
    return section


def _build_worker(p: Prepared) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.nearest", str(p.corpus), str(p.cache)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mb(*arrays: Any) -> float:
    return sum(int(a.nbytes) for a in arrays) / 2**20


def _python_mb(passages: Any) -> float:
    """About what the Passage objects take: each object, and its ints past the shared small ones
    (a section or speaker string is shared by the passages that carry it, so not counted)."""
    total = 0
    for passage in passages:
        total += sys.getsizeof(passage)
        for value in (passage.start, passage.end, passage.paragraph, passage.sentence):
            total += sys.getsizeof(value) if value > 256 else 0
        total += sys.getsizeof(passage.header) if passage.header else 0
    return total / 2**20


def weights(index: Any) -> dict[str, float]:
    """Where a built index's memory goes, in MB (Python objects estimated)."""
    graph = index.nearest
    arrays = graph.arrays() if graph is not None else {}
    bm25 = [index.bm25.scores[k] for k in ("data", "indices", "indptr")]
    paragraph_bm25 = [index.paragraph_bm25.scores[k] for k in ("data", "indices", "indptr")]
    terms = index.term_matrix
    per_passage = [
        index.doc_of, index.cues, index.paragraph_of, index.centered_norms, index.quoted,
        index.lengths, index.passage_starts, index.passage_ends, index.candidate_pairs,
        index.pairs_with_next,
    ]  # fmt: skip
    return {
        "vectors": _mb(index.vectors),
        "paragraph vectors": _mb(index.paragraph_vectors)
        if index.paragraph_vectors is not None
        else 0.0,
        "graph": _mb(*arrays.values()),
        "BM25 of passages": _mb(*bm25),
        "BM25 of paragraphs": _mb(*paragraph_bm25),
        "term matrix": _mb(terms.data, terms.indices, terms.indptr),
        "other per-passage arrays": _mb(*per_passage),
        "Passage objects": _python_mb(index.passages),
        "documents' texts": sum(len(d.text) for d in index.documents) / 2**20,
        "vocabularies": (
            sum(sys.getsizeof(w) for w in index.vocabulary) + sys.getsizeof(index.vocabulary) * 2
        )
        / 2**20,
    }


def _recall(found: Any, scores: Any, exact_scores: Any) -> int:
    """How many of `found` have an exact score at least the exact TOP-th best."""
    tenth = float(np.partition(exact_scores, -TOP)[-TOP])
    return int((scores[found] >= tenth - 1e-6).sum())


def _work(knowledge: Path, cache_dir: Path) -> dict[str, Any]:
    from assistant import ann
    from assistant.cache import Cache
    from assistant.documents import Folder
    from assistant.embedding import OnnxEmbedder
    from assistant.index import Index, IndexStats, _parts
    from benchmarks.corpora import questions

    cache = Cache(cache_dir, OnnxEmbedder.model_id)
    documents = Folder(knowledge.resolve()).read().documents
    entries = [cache.get(doc) for doc in documents]
    if any(e is None for e in entries):
        raise RuntimeError("the corpus is not prepared (python -m benchmarks prepares it)")
    done = [e for e in entries if e is not None]
    exact_vectors = np.vstack([e.vectors for e in done]).astype(np.float32)
    threshold, ann.THRESHOLD = ann.THRESHOLD, 1  # the graph at any size, as `worker graph`
    began = time.perf_counter()
    parts = _parts(done)
    index = Index(documents, parts, IndexStats(len(documents), len(parts.passages), 0))
    build_s = time.perf_counter() - began
    assert index.nearest is not None
    asked = questions()[:200]
    vectors = OnnxEmbedder().embed(asked)
    hits: list[int] = []
    search_ms: list[float] = []
    scan_ms: list[float] = []
    # One BLAS thread, as while answering (assistant/core.py).
    with threadpool_limits(limits=1, user_api="blas"):
        for vector in vectors:
            hits.append(_one(index, exact_vectors, vector, search_ms, scan_ms))
    return {
        "recall": float(np.mean(hits)) / TOP,
        "recall_min": float(np.min(hits)),
        "questions": len(hits),
        "search_ms": percentiles(search_ms, 50, 99),
        "scan_ms": percentiles(scan_ms, 50, 99),
        "build_s": build_s,
        "graph_s": index.nearest_seconds,
        "nodes": len(index.nearest),
        "passages": len(index),
        "threshold": threshold,
        "weights_mb": weights(index),
    }


def _one(
    index: Any, exact_vectors: Any, vector: Any, search_ms: list[float], scan_ms: list[float]
) -> int:
    start = time.perf_counter()
    near = index.nearest.search(vector, 256)
    order = np.argsort(-(index.vectors[near] @ vector), kind="stable")[:TOP]
    search_ms.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    scores = exact_vectors @ vector
    np.argpartition(-scores, TOP)[:TOP]
    scan_ms.append((time.perf_counter() - start) * 1000)
    return _recall(near[order], scores, scores)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("knowledge", type=Path)
    parser.add_argument("cache", type=Path)
    args = parser.parse_args()
    print(json.dumps(_work(args.knowledge, args.cache)))


if __name__ == "__main__":
    main()
