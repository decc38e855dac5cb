"""Indexing a PDF: pages per second of extraction, the share of a cold index spent extracting
against embedding, and a restart that parses nothing again (issue 17).

The PDF is generated (tests/data/formats/src/gen_big_pdf.py: 500 pages, a running header, a
"Section N" heading and 48 numbered lines each, "Page N of 500" footers), so every run measures
the same bytes. The alternative for extraction is PDFium's plain text of every page
(`get_text_range`), which has no layout: no running lines removed, no hyphens joined, no
paragraphs, tables or pages of passages; ours costs what that layout costs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import Assistant
from assistant import documents as documents_module
from assistant.embedding import OnnxEmbedder, Progress, Vectors
from assistant.formats.isolation import read_isolated
from assistant.formats.pdf import read_pdf
from benchmarks.report import Row, Section

GENERATOR = Path(__file__).resolve().parent.parent / "tests/data/formats/src/gen_big_pdf.py"
# Measured on the research machine (REPORT §2.3): 170-260 pages/s with the layout's geometry.
PAGES_PER_SECOND_TARGET = 100


class _TimedEmbedder:
    """The real embedder, with the time spent in it added up."""

    def __init__(self, inner: OnnxEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.seconds = 0.0
        self.texts = 0

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        start = time.perf_counter()
        try:
            return self.inner.embed(texts, progress)
        finally:
            self.seconds += time.perf_counter() - start
            self.texts += len(texts)


class _CountedReads:
    """read_isolated, with the extractions it makes and their time added up."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return read_isolated(*args, **kwargs)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - start


def _plain_text_seconds(data: bytes) -> float:
    import pypdfium2 as pdfium

    start = time.perf_counter()
    pdf = pdfium.PdfDocument(data)
    for index in range(len(pdf)):
        page = pdf[index]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    pdf.close()
    return time.perf_counter() - start


def measure(pages: int = 500, rounds: int = 2) -> Section:
    section = Section(
        f"PDF indexing, {pages} generated pages",
        "PDFium's plain page text (no layout) for extraction, the whole cold index for the rest",
    )
    with tempfile.TemporaryDirectory(prefix="policy-qa-bench-pdf-") as tmp:
        folder = Path(tmp) / "knowledge"
        folder.mkdir()
        path = folder / "handbook.pdf"
        subprocess.run([sys.executable, GENERATOR, path, str(pages)], check=True)
        data = path.read_bytes()
        extract, plain = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            document = read_pdf(path, data)
            extract.append(time.perf_counter() - start)
            plain.append(_plain_text_seconds(data))
        embedder = _TimedEmbedder(OnnxEmbedder())
        embedder.inner.embed(["warm up"])  # the model's first-run allocations are not indexing
        reads = _CountedReads()
        setattr(documents_module, "read_isolated", reads)  # noqa: B010 - counted while measured
        try:
            start = time.perf_counter()
            cold = Assistant.load(folder, embedder=embedder, cache_dir=Path(tmp) / "cache")
            cold_s = time.perf_counter() - start
            passages = cold.index.stats.embedded
            cold.close()
            cold_reads, cold_extract_s, embed_s = reads.calls, reads.seconds, embedder.seconds
            reads.calls, reads.seconds, embedder.seconds = 0, 0.0, 0.0
            start = time.perf_counter()
            warm = Assistant.load(folder, embedder=embedder, cache_dir=Path(tmp) / "cache")
            warm_s = time.perf_counter() - start
            warm.close()
        finally:
            setattr(documents_module, "read_isolated", read_isolated)  # noqa: B010
    rate, plain_rate = pages / min(extract), pages / min(plain)
    section.rows += [
        Row(
            section.title,
            "extraction (read_pdf, in process)",
            min(extract),
            min(plain),
            "s",
            f">= {PAGES_PER_SECOND_TARGET} pages/s",
            rate >= PAGES_PER_SECOND_TARGET,
            f"{rate:,.0f} pages/s (plain text {plain_rate:,.0f})",
        ),
        Row(
            section.title,
            "cold index: extraction, in its own process",
            cold_extract_s,
            cold_s,
            "s",
            note=f"{cold_extract_s / cold_s:.0%} of the cold index",
        ),
        Row(
            section.title,
            f"cold index: embedding {passages:,} passages",
            embed_s,
            cold_s,
            "s",
            note=f"{embed_s / cold_s:.0%} of the cold index",
        ),
        Row(
            section.title,
            "restart: documents parsed again",
            reads.calls,
            cold_reads,
            "files",
            "0",
            reads.calls == 0,
        ),
        Row(section.title, "restart: time to load", warm_s, cold_s, "s"),
    ]
    section.raw = {
        "pages": pages,
        "characters": len(document.text),
        "read_pdf_s": extract,
        "plain_text_s": plain,
        "cold_s": cold_s,
        "cold_extraction_s": cold_extract_s,
        "cold_embedding_s": embed_s,
        "passages": passages,
        "restart_s": warm_s,
        "restart_extractions": reads.calls,
        "restart_embedding_s": embedder.seconds,
    }
    return section
