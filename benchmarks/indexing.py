"""Indexing: throughput with an empty cache against raw encoding, and re-indexing one change."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rank_bm25 import BM25Okapi

from assistant import Assistant
from assistant.documents import load_documents, read_document
from assistant.embedding import OnnxEmbedder
from assistant.passages import split_passages
from benchmarks import baseline, corpora
from benchmarks.report import Row, Section

THROUGHPUT_TARGET = 0.9  # of the raw encode throughput of the same model


def _texts(folder: Path) -> list[str]:
    """The passage texts the core embeds for `folder`."""
    return [d.text[p.start : p.end] for d in load_documents(folder) for p in split_passages(d)]


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def throughput(sample: int, rounds: int) -> Section:
    section = Section(
        f"Indexing throughput, {sample:,} passages, empty cache (best of {rounds})",
        "raw encode of the same passage texts (model already loaded for both)",
        better="higher",
    )
    with tempfile.TemporaryDirectory(prefix="policy-qa-bench-") as tmp:
        folder = Path(tmp) / "corpus"
        corpora.generate(folder, sample, seed=1)
        texts = _texts(folder)
        embedder = OnnxEmbedder()
        embedder.embed(texts[:16])  # first-run allocations are not throughput
        ours, raw = [], []
        for round_ in range(rounds):
            raw.append(_seconds(lambda: embedder.embed(texts)))
            cache = Path(tmp) / f"cache-{round_}"  # empty: every passage is embedded
            start = time.perf_counter()
            Assistant.load(folder, embedder=embedder, cache_dir=cache)
            ours.append(time.perf_counter() - start)
        model = baseline.load_model()
        baseline.encode(model, texts[:16])
        st = _seconds(lambda: baseline.encode(model, texts))
        bm25 = _seconds(lambda: BM25Okapi([baseline.tokenize(t) for t in texts]))
    n = len(texts)
    best_ours, best_raw = n / min(ours), n / min(raw)
    section.rows += [
        Row(
            section.title,
            "Assistant.load vs OnnxEmbedder.embed (same int8 model)",
            best_ours,
            best_raw,
            "passages/s",
            f">= {THROUGHPUT_TARGET:.0%} of raw",
            best_ours >= THROUGHPUT_TARGET * best_raw,
        ),
        Row(
            section.title,
            "Assistant.load vs sentence-transformers encode (fp32)",
            best_ours,
            n / st,
            "passages/s",
        ),
        Row(
            section.title,
            "Assistant.load vs ST encode + BM25Okapi build (simple alternative)",
            best_ours,
            n / (st + bm25),
            "passages/s",
        ),
    ]
    section.raw = {
        "passages": n,
        "ours_s": ours,
        "onnx_raw_s": raw,
        "st_raw_s": st,
        "bm25okapi_s": bm25,
    }
    return section


def reindex(source: Path) -> Section:
    section = Section("Re-indexing after one document changes", "full rebuild with an empty cache")
    with tempfile.TemporaryDirectory(prefix="policy-qa-bench-") as tmp:
        folder, cache = Path(tmp) / "corpus", Path(tmp) / "cache"
        shutil.copytree(source, folder)
        embedder = OnnxEmbedder()
        embedder.embed(["warm up"])

        def load() -> tuple[float, int]:
            start = time.perf_counter()
            index = Assistant.load(folder, embedder=embedder, cache_dir=cache).index
            return time.perf_counter() - start, index.stats.embedded

        full_s, full_n = load()
        same_s, same_n = load()
        docs = sorted(folder.glob("*.md"))
        changed = docs[len(docs) // 2]
        with changed.open("a", encoding="utf-8") as f:
            f.write("\nWe updated this policy on 1 March 2026 to explain how we keep your data.\n")
        expected = len(split_passages(read_document(changed)))
        change_s, change_n = load()
    section.rows += [
        Row(
            section.title,
            "passages re-embedded (alternative: all of them)",
            change_n,
            full_n,
            "passages",
            f"= that doc's {expected}",
            change_n == expected,
        ),
        Row(section.title, "time, one document changed", change_s, full_s, "s"),
        Row(section.title, "time, nothing changed", same_s, full_s, "s", "embeds 0", same_n == 0),
    ]
    section.raw = {
        "full": [full_s, full_n],
        "unchanged": [same_s, same_n],
        "changed": [change_s, change_n],
        "expected": expected,
        "document": changed.name,
    }
    return section
